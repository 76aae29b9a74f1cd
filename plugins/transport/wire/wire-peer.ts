/**
 * A peer as the coordinator lists it. Every node hears of every other (its
 * list when it joins, a change when another joins), so a join burst of N nodes
 * moves N² entries, and their bytes are what the burst costs both ends (10 to
 * 13 CPU-seconds per GB on these machines: TLS, system calls and copies). So
 * lists and joins carry entries in binary (frame kind `list`, frame-codec.ts):
 * 46 bytes for an entry with an 8-character name and an IPv4 address, where
 * the JSON array with a base64url ID was 72 and the keyed object with a hex ID
 * 133:
 *
 *   32 bytes  ID (the SHA-256 fingerprint of the node's certificate)
 *   u8        name length in bytes, then the name (UTF-8)
 *   u8        address form: 4 = four bytes of IPv4 follow; 0 = u16 length, then the address as text
 *   u16       port (big-endian)
 *   u8        tag count, then each tag as u8 length and its bytes
 *
 * A decoded entry is the positional array the JSON messages (`peer-renamed`)
 * carry, `[id, name, address, port]` with `tags` fifth only when there are
 * any and the ID in base64url, so one schema checks both; the node turns it
 * back into a Peer (hex ID) as it reads it.
 */
import { isIPv4 } from 'node:net';
import { NvidError } from '../../../core/errors.js';
import type { Peer } from '../../../core/types.js';

export type WirePeer = [id: string, name: string, address: string, port: number, tags?: string[]];

const ID_BYTES = 32;
const ADDRESS_IPV4 = 4;
const ADDRESS_TEXT = 0;

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

/** The four bytes of a dotted IPv4 address that prints back exactly as given, else undefined. */
function ipv4Bytes(address: string): number[] | undefined {
  if (!isIPv4(address)) return undefined;
  const bytes = address.split('.').map(Number);
  return bytes.join('.') === address ? bytes : undefined;
}

/** One listed peer in binary (see above). Names are at most 64 UTF-16 units (cleanName), so at most 192 bytes. */
export function encodePeerEntry(peer: Peer): Buffer {
  const name = Buffer.from(peer.name, 'utf8');
  if (name.length === 0 || name.length > 255) throw new NvidError('NVID_ERR_BAD_FRAME', `a listed name must be 1 to 255 bytes, not ${name.length}`);
  const ipv4 = ipv4Bytes(peer.address);
  const address = ipv4 ? Buffer.from(ipv4) : Buffer.from(peer.address, 'utf8');
  const tags = (peer.tags ?? []).map((tag) => Buffer.from(tag, 'utf8'));
  const length = ID_BYTES + 1 + name.length + (ipv4 ? 1 + 4 : 3 + address.length) + 2 + 1 + tags.reduce((sum, tag) => sum + 1 + tag.length, 0);
  const out = Buffer.allocUnsafe(length);
  let at = out.write(peer.id, 0, 'hex');
  at = out.writeUInt8(name.length, at);
  at += name.copy(out, at);
  if (ipv4) {
    at = out.writeUInt8(ADDRESS_IPV4, at);
  } else {
    at = out.writeUInt8(ADDRESS_TEXT, at);
    at = out.writeUInt16BE(address.length, at);
  }
  at += address.copy(out, at);
  at = out.writeUInt16BE(peer.port, at);
  at = out.writeUInt8(tags.length, at);
  for (const tag of tags) {
    at = out.writeUInt8(tag.length, at);
    at += tag.copy(out, at);
  }
  return out;
}

/**
 * Where the entry starting at `at` ends, without decoding it: -1 when `bytes` ends inside it,
 * -2 for an unknown address form. Shared by the decoder and the benchmarks' simulated nodes,
 * which count and find entries without building them.
 */
export function peerEntryEnd(bytes: Uint8Array, at: number): number {
  const end = bytes.length;
  let i = at + ID_BYTES;
  if (i >= end) return -1;
  i += 1 + bytes[i]!;
  if (i >= end) return -1;
  const form = bytes[i]!;
  if (form === ADDRESS_IPV4) i += 1 + 4;
  else if (form === ADDRESS_TEXT) {
    if (i + 3 > end) return -1;
    i += 3 + ((bytes[i + 1]! << 8) | bytes[i + 2]!);
  } else return -2;
  i += 2;
  if (i >= end) return -1;
  const tags = bytes[i]!;
  i += 1;
  for (let t = 0; t < tags; t += 1) {
    if (i >= end) return -1;
    i += 1 + bytes[i]!;
  }
  return i <= end ? i : -1;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Every entry from `at` to the end of `bytes`; a truncated entry, an unknown address form or invalid UTF-8 is a bad frame. */
export function decodePeerEntries(bytes: Buffer, at: number): WirePeer[] {
  const entries: WirePeer[] = [];
  const text = (from: number, to: number, what: string) => {
    try {
      return utf8.decode(bytes.subarray(from, to));
    } catch {
      throw new NvidError('NVID_ERR_BAD_FRAME', `a listed peer's ${what} is not valid UTF-8`);
    }
  };
  while (at < bytes.length) {
    const end = peerEntryEnd(bytes, at);
    if (end < 0) throw new NvidError('NVID_ERR_BAD_FRAME', end === -1 ? `a peer list ends inside an entry (at byte ${at} of ${bytes.length})` : `a listed peer has an unknown address form ${bytes[at + ID_BYTES + 1 + bytes[at + ID_BYTES]!]}`);
    let i = at;
    const id = bytes.toString('base64url', i, (i += ID_BYTES));
    const nameEnd = i + 1 + bytes[i]!;
    const name = text(i + 1, nameEnd, 'name');
    i = nameEnd;
    let address: string;
    if (bytes[i] === ADDRESS_IPV4) {
      address = `${bytes[i + 1]}.${bytes[i + 2]}.${bytes[i + 3]}.${bytes[i + 4]}`;
      i += 5;
    } else {
      const addressEnd = i + 3 + bytes.readUInt16BE(i + 1);
      address = text(i + 3, addressEnd, 'address');
      i = addressEnd;
    }
    const entry: WirePeer = [id, name, address, bytes.readUInt16BE(i)];
    i += 2;
    const count = bytes[i]!;
    i += 1;
    if (count > 0) {
      const tags: string[] = [];
      for (let t = 0; t < count; t += 1) {
        const tagEnd = i + 1 + bytes[i]!;
        tags.push(text(i + 1, tagEnd, 'tag'));
        i = tagEnd;
      }
      entry.push(tags);
    }
    entries.push(entry);
    at = end;
  }
  return entries;
}
