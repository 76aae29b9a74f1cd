/** The peers as the page shows them (API.md `GET /api/peers`): no certificates, sorted by name. */
import type { Peer } from '../../core/types.js';

export interface PanelPeer {
  readonly id: string;
  readonly shortId: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly online: true;
  readonly tags: string[];
}

export function panelPeers(peers: readonly Peer[]): PanelPeer[] {
  return peers
    .map((p) => ({ id: p.id, shortId: p.id.slice(0, 16), name: p.name, address: p.address, port: p.port, online: true as const, tags: [] }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}
