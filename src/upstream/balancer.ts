// Picks a backend for each request: the live node with the fewest requests outstanding, round
// robin among ties. A node that refuses a connection is dead for `gracetimeMs` (uWSGI's
// --http-gracetime); when every node is dead, the one that failed longest ago is tried. (A
// connection it accepted and then reset does not make it dead: forwarding-app.ts, lost().)

import type { BackendAddress } from '../config/config.ts';

export type { BackendAddress };

export interface BackendNode {
  readonly address: BackendAddress;
  /** For logs: `127.0.0.1:3031`, `/run/app.sock`, `http://127.0.0.1:8000`. */
  readonly label: string;
  outstanding: number;
  deadUntil: number;
  /** Times it refused a connection (for the stats). */
  failures: number;
}

export class Balancer {
  readonly nodes: readonly BackendNode[];
  private readonly gracetimeMs: number;
  private turn = 0;

  constructor(addresses: readonly BackendAddress[], gracetimeMs: number) {
    this.nodes = addresses.map((address) => ({ address, label: labelOf(address), outstanding: 0, deadUntil: 0, failures: 0 }));
    this.gracetimeMs = gracetimeMs;
  }

  /** The node to try next, never `exclude` unless it is the only one. */
  pick(exclude?: BackendNode): BackendNode | undefined {
    const now = Date.now();
    // Two passes, no array per request: the fewest outstanding and how many nodes tie on it,
    // then the tie whose turn it is.
    let fewest = Infinity;
    let ties = 0;
    for (const node of this.nodes) {
      if (!this.eligible(node, exclude, now)) continue;
      if (node.outstanding < fewest) {
        fewest = node.outstanding;
        ties = 1;
      } else if (node.outstanding === fewest) ties++;
    }
    if (ties > 0) {
      let nth = this.turn++ % ties;
      for (const node of this.nodes) {
        if (this.eligible(node, exclude, now) && node.outstanding === fewest && nth-- === 0) return node;
      }
    }
    const others = this.nodes.filter((node) => node !== exclude);
    if (others.length === 0) return undefined;
    return others.reduce((a, b) => (a.deadUntil <= b.deadUntil ? a : b));
  }

  private eligible(node: BackendNode, exclude: BackendNode | undefined, now: number): boolean {
    return node !== exclude && node.deadUntil <= now;
  }

  markDead(node: BackendNode): void {
    node.failures++;
    node.deadUntil = Date.now() + this.gracetimeMs;
  }

  markAlive(node: BackendNode): void {
    node.deadUntil = 0;
  }
}

function labelOf(address: BackendAddress): string {
  switch (address.kind) {
    case 'uwsgi':
      return `${address.host}:${address.port}`;
    case 'uwsgi-unix':
      return address.path;
    case 'http':
      return address.socketPath !== undefined ? `http+unix:${address.socketPath}` : `http://${address.host}:${address.port}`;
  }
}
