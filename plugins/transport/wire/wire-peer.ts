/**
 * A peer as the coordinator lists it: a positional array, not an object.
 * Every node hears of every other (its list when it joins, a change when
 * another joins), so a join burst of N nodes moves N² entries, and the entry's
 * size is what the burst costs both ends (about 13 CPU-seconds per GB on these
 * machines, TLS, copies and garbage collection together): `[id, name,
 * address, port]`, with `tags` fifth only when there are any, and the ID as
 * base64url (43 characters) instead of hex (64) is 72 bytes where the object
 * with keys was 133. The node turns it back into a Peer (hex ID) as it reads it.
 */
import type { Peer } from '../../../core/types.js';

export type WirePeer = [id: string, name: string, address: string, port: number, tags?: string[]];

export function toWirePeer(peer: Peer): WirePeer {
  const entry: WirePeer = [Buffer.from(peer.id, 'hex').toString('base64url'), peer.name, peer.address, peer.port];
  if (peer.tags && peer.tags.length > 0) entry.push([...peer.tags]);
  return entry;
}

/** A checked entry (the schema in wire-messages.ts) as a Peer, with its hex ID and no certificate. */
export function fromWirePeer(entry: WirePeer): Peer {
  const [id, name, address, port, tags] = entry;
  return { id: Buffer.from(id, 'base64url').toString('hex'), name, address, port, tags: tags ?? [] };
}
