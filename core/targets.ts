/**
 * What `--to` (and a drop-folder target) may name: one peer (a name or an ID
 * prefix), a list (`lobby,kitchen`), a group by tag (`tag:floor-2`) or `all`.
 * One resolver for every caller (the CLI's send, the host's send to many, the
 * drop folder), so a target means the same thing everywhere.
 */
import { NvidError } from './errors.js';
import type { Peer } from './types.js';

/** A tag: a short lowercase word (what a node declares in its config `tags`, and what `tag:` takes). */
export const TAG_PATTERN = '^[a-z0-9][a-z0-9._-]{0,31}$';
const TAG = new RegExp(TAG_PATTERN);
/** At most this many tags per node (config, hello, peer list). */
export const MAX_TAGS = 32;
/** A list in a target names at most this many items. */
const MAX_LIST_ITEMS = 1024;

/** What the resolver needs of the peer table. */
export interface TargetPeers {
  list(): Peer[];
  /** One peer by exact name or unique ID prefix; throws NVID_ERR_UNKNOWN_PEER / NVID_ERR_AMBIGUOUS_PEER. */
  resolve(nameOrId: string): Peer;
}

/**
 * Whether a target names a group (a list, a tag or `all`) rather than one peer. A peer whose
 * name is exactly the target is that one peer, even if the name has a comma or starts with `tag:`.
 */
export function isGroupTarget(spec: string, peers: TargetPeers): boolean {
  const text = spec.trim();
  if (peers.list().some((peer) => peer.name === spec)) return false;
  return text === 'all' || text.startsWith('tag:') || text.includes(',');
}

/** One item of a target: `all`, `tag:x`, or one peer. */
function resolveItem(item: string, peers: TargetPeers): Peer[] {
  if (peers.list().some((peer) => peer.name === item)) return [peers.resolve(item)];
  if (item === 'all') {
    const all = peers.list();
    if (all.length === 0) throw new NvidError('NVID_ERR_UNKNOWN_PEER', 'no admitted peers are known yet to send to "all" (is the coordinator reachable?)');
    return all;
  }
  if (item.startsWith('tag:')) {
    const tag = item.slice(4);
    if (!TAG.test(tag)) throw new NvidError('NVID_ERR_USAGE', `"${item}": a tag is a short lowercase word (letters, digits, . _ -), e.g. tag:floor-2`);
    const tagged = peers.list().filter((peer) => peer.tags.includes(tag));
    if (tagged.length === 0) throw new NvidError('NVID_ERR_UNKNOWN_PEER', `no admitted peer has the tag "${tag}"`, { details: { tag } });
    return tagged;
  }
  return [peers.resolve(item)];
}

/**
 * The peers a target names, each once, in the order given (a tag's or `all`'s peers by name).
 * Throws NVID_ERR_UNKNOWN_PEER naming every item of a list that names no peer, for a tag no
 * peer has and for `all` with no peer known; NVID_ERR_AMBIGUOUS_PEER for a name two peers share;
 * NVID_ERR_USAGE for an empty target or a malformed tag.
 */
export function resolveTargets(spec: string, peers: TargetPeers): Peer[] {
  const text = spec.trim();
  if (text === '') throw new NvidError('NVID_ERR_USAGE', 'name a target: a peer, a list (lobby,kitchen), tag:NAME or all');
  // A peer called exactly that (a comma in a name is allowed) is that peer.
  if (peers.list().some((peer) => peer.name === spec)) return [peers.resolve(spec)];
  const items = text.includes(',') ? text.split(',').map((item) => item.trim()).filter((item) => item !== '') : [text];
  if (items.length === 0) throw new NvidError('NVID_ERR_USAGE', `"${spec}" names no target`);
  if (items.length > MAX_LIST_ITEMS) throw new NvidError('NVID_ERR_USAGE', `a target list names at most ${MAX_LIST_ITEMS} items`);
  const found = new Map<string, Peer>();
  const unknown: string[] = [];
  let firstError: NvidError | undefined;
  for (const item of items) {
    try {
      for (const peer of resolveItem(item, peers)) if (!found.has(peer.id)) found.set(peer.id, peer);
    } catch (err) {
      if (!(err instanceof NvidError) || err.code !== 'NVID_ERR_UNKNOWN_PEER' || items.length === 1) throw err;
      unknown.push(item);
      firstError ??= err;
    }
  }
  if (unknown.length === 1) throw new NvidError('NVID_ERR_UNKNOWN_PEER', `in the target list "${text}": ${firstError!.message}`, { details: { unknown } });
  if (unknown.length > 1) {
    const known = peers.list().map((peer) => peer.name);
    throw new NvidError('NVID_ERR_UNKNOWN_PEER', `the target list names no admitted peer for ${unknown.map((u) => `"${u}"`).join(', ')}${known.length ? `; known peers: ${known.join(', ')}` : ''}`, { details: { unknown } });
  }
  return [...found.values()];
}
