/**
 * The coordinator's address book on disk, so a restarted coordinator hands
 * rejoining nodes the same list they had (no leave/join churn, names kept)
 * while the others come back. Written atomically, a short while after each
 * change, so a burst of 1,000 joins costs a handful of writes; the while grows
 * with what a write costs (14 MB of JSON at 10,000 nodes), so saving never
 * takes more than a twentieth of the coordinator's time.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Peer } from '../../../core/types.js';
import { certificateFingerprint } from '../wire/tls-helpers.js';

export const ROSTER_FILE = 'coordinator-roster.json';
const WRITE_DELAY_MS = 250;
/** The wait after a write is at least this many times what the write took. */
const WRITE_COST_FACTOR = 20;

export class RosterFile {
  readonly path: string;
  private timer: NodeJS.Timeout | undefined;
  private latest: (() => Peer[]) | undefined;
  private lastWriteMs = 0;

  constructor(path: string) {
    this.path = path;
  }

  /** The entries saved last time; unreadable files or entries whose ID is not their certificate's fingerprint are skipped. */
  load(): Peer[] {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch {
      return [];
    }
    const peers = (data as { peers?: unknown }).peers;
    if (!Array.isArray(peers)) return [];
    return peers.filter(isPeer).filter((peer) => peer.certPem !== undefined && certificateFingerprint(peer.certPem) === peer.id);
  }

  /** Saves `snapshot()` soon; several calls in a burst make one write. */
  scheduleSave(snapshot: () => Peer[]): void {
    this.latest = snapshot;
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), Math.max(WRITE_DELAY_MS, WRITE_COST_FACTOR * this.lastWriteMs));
    this.timer.unref();
  }

  /** Writes any pending change now (on stop). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const snapshot = this.latest;
    this.latest = undefined;
    if (!snapshot) return;
    const started = performance.now();
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify({ version: 1, peers: snapshot() }), { mode: 0o600 });
    renameSync(tmp, this.path);
    this.lastWriteMs = performance.now() - started;
  }
}

/** A peer entry read from outside (this file, the shared directory) has every field, of the right type. */
export function isPeer(value: unknown): value is Peer {
  const p = value as Record<string, unknown>;
  return (
    typeof p === 'object' && p !== null &&
    typeof p.id === 'string' && typeof p.name === 'string' && typeof p.certPem === 'string' &&
    typeof p.address === 'string' && Number.isInteger(p.port) &&
    // Saved before nodes had tags: none. Otherwise a list of strings; the hello checked them when they came.
    (p.tags === undefined || (Array.isArray(p.tags) && p.tags.every((tag) => typeof tag === 'string')))
  );
}
