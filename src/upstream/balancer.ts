// Picks a backend for each request: the live node with the fewest requests outstanding, round
// robin among ties. A node that refuses a connection is dead for `gracetimeMs` (uWSGI's
// --http-gracetime); when every node is dead, the one that failed longest ago is tried.

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
    let best: BackendNode[] = [];
    let fewest = Infinity;
    for (const node of this.nodes) {
      if (node === exclude || node.deadUntil > now) continue;
      if (node.outstanding < fewest) {
        fewest = node.outstanding;
        best = [node];
      } else if (node.outstanding === fewest) best.push(node);
    }
    if (best.length > 0) return best[this.turn++ % best.length];
    const others = this.nodes.filter((node) => node !== exclude);
    if (others.length === 0) return undefined;
    return others.reduce((a, b) => (a.deadUntil <= b.deadUntil ? a : b));
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
