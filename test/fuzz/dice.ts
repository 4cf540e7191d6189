// The fuzzers' seeded choices: the tests' PRNG (test/spdy/harness.ts, mulberry32) behind the few
// questions every generator asks, so that the same seed always makes the same choices.

import { prng } from '../spdy/harness.ts';

export class Dice {
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = prng(seed);
  }

  /** A whole number in [0, below). */
  int(below: number): number {
    return Math.floor(this.random() * below);
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  pick<T>(from: readonly T[]): T {
    return from[this.int(from.length)];
  }

  /** Cuts `bytes` at random points: single bytes, small pieces, whole runs. */
  split(bytes: Buffer, sizes: readonly number[] = [1, 7, 64, 1000, 16384, 65536]): Buffer[] {
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; ) {
      const size = this.pick(sizes);
      chunks.push(bytes.subarray(at, at + size));
      at += size;
    }
    return chunks;
  }
}
