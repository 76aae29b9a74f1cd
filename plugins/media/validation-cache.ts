/**
 * Remembers the media check of files already judged, so a node restarted with
 * a large library does not run ffprobe on every file again.
 *
 * A result is keyed by what decides it: the file's content (SHA-256 and size),
 * the rules in force (the media policy, the validator's version, which
 * ffprobe), so changing any of them misses. A large file kept on this node can
 * instead be known by its identity on disk (device, inode, size, mtime and
 * ctime, which no user can set back), since hashing it would cost more than
 * ffprobe does. Files from elsewhere (`send`, `receive`) are only ever matched
 * by content.
 *
 * Persisted as JSON lines in the state folder, one result a line, appended;
 * unreadable lines are skipped, and the file is rewritten (to a temporary name,
 * then renamed) with the newest `maxEntries` results once it grows past twice
 * that. Hook-free: the plugin decides when to ask.
 */
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { appendFile, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { isNvidError, NvidError } from '../../core/errors.js';
import { hashFile } from '../../core/file-hash.js';
import type { MediaInfo } from '../../core/types.js';
import type { MediaPolicy } from './inspect.js';

/**
 * Bump when validate-file.ts, inspect.ts or probe.ts would judge a file
 * differently: every remembered result then misses.
 */
export const VALIDATOR_VERSION = 1;

/** Name of the cache file in the state folder. */
export const VALIDATION_CACHE_FILE = 'media-cache.jsonl';

/** What is remembered of one file: what it is, or why it may not be shown. */
export type CachedResult = { readonly ok: true; readonly media: MediaInfo } | { readonly ok: false; readonly reason: string };

/** How a file is known to the cache. */
export type CacheSide = 'local' | 'foreign';

export interface CacheSettings {
  /** Results kept (the newest win). */
  readonly maxEntries: number;
  /** Files up to this size are known by content; larger ones by their identity on disk (`local`) or not at all. */
  readonly hashLimitBytes: number;
}

/** One line of the cache file. */
interface Line {
  readonly k: string;
  readonly v: CachedResult;
}

/**
 * A short digest of everything besides the file that decides its check: the
 * policy (keys sorted, so the order in the config does not matter), the
 * validator's version and the ffprobe in use.
 */
export function rulesDigest(policy: MediaPolicy, ffprobe: string): string {
  const fields = {
    codecs: [...policy.codecs].sort(),
    containers: [...policy.containers].sort(),
    maxDurationSeconds: policy.maxDurationSeconds,
    maxFileBytes: policy.maxFileBytes,
    maxFrames: policy.maxFrames,
    maxHeight: policy.maxHeight,
    maxPixels: policy.maxPixels,
    maxWidth: policy.maxWidth,
  };
  return createHash('sha256').update(JSON.stringify({ v: VALIDATOR_VERSION, ffprobe, policy: fields })).digest('hex').slice(0, 16);
}

function isResult(v: unknown): v is CachedResult {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  if (r.ok === true) return typeof r.media === 'object' && r.media !== null && typeof (r.media as Record<string, unknown>).kind === 'string';
  return r.ok === false && typeof r.reason === 'string';
}

/** The cache of one node. `load()`, then `keyOf()`, `get()` and `put()`. */
export class ValidationCache {
  readonly #file: string;
  readonly #settings: CacheSettings;
  readonly #entries = new Map<string, CachedResult>();
  #lines = 0;
  /** Appends and rewrites, one at a time and in order. */
  #writing: Promise<void> = Promise.resolve();
  hits = 0;
  misses = 0;
  /** Lines of the file that could not be read at load. */
  skipped = 0;

  constructor(file: string, settings: CacheSettings) {
    this.#file = file;
    this.#settings = settings;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Reads the file; a missing file is an empty cache, a bad line is skipped. */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch {
      return;
    }
    for (const raw of text.split('\n')) {
      if (!raw) continue;
      this.#lines++;
      try {
        const line = JSON.parse(raw) as Partial<Line>;
        if (typeof line.k !== 'string' || !isResult(line.v)) throw new Error('not a cache line');
        // Re-inserted, so the newest result of a key is also the youngest in the map's order.
        this.#entries.delete(line.k);
        this.#entries.set(line.k, line.v);
      } catch {
        this.skipped++;
      }
    }
    this.#trim();
    if (this.#lines > 2 * this.#settings.maxEntries || this.skipped > 0) this.#enqueue(() => this.#rewrite());
  }

  /**
   * The key of `path` under `rules`, or undefined when the file is not to be
   * cached (too large to hash, and not a local file). Throws what `stat` throws.
   */
  async keyOf(path: string, rules: string, side: CacheSide): Promise<string | undefined> {
    const st = await stat(path, { bigint: true });
    if (!st.isFile()) return undefined;
    if (st.size <= BigInt(this.#settings.hashLimitBytes)) return `sha256:${await hashFile(path)}:${st.size}:${rules}`;
    if (side !== 'local') return undefined;
    return `file:${identityOf(st)}:${rules}`;
  }

  /** The remembered result of `key`, counted as a hit or a miss. */
  get(key: string): CachedResult | undefined {
    const found = this.#entries.get(key);
    if (found) this.hits++;
    else this.misses++;
    return found;
  }

  /** Remembers a result and appends it to the file (in the background; see `flush`). */
  put(key: string, result: CachedResult): void {
    this.#entries.delete(key);
    this.#entries.set(key, result);
    this.#trim();
    const line = `${JSON.stringify({ k: key, v: result } satisfies Line)}\n`;
    this.#enqueue(async () => {
      if (++this.#lines > 2 * this.#settings.maxEntries) await this.#rewrite();
      else await appendFile(this.#file, line, { mode: 0o600 });
    });
  }

  /** Resolves once every write asked for so far is on disk. */
  flush(): Promise<void> {
    return this.#writing;
  }

  #trim(): void {
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= this.#settings.maxEntries) break;
      this.#entries.delete(key);
    }
  }

  /** The file, written anew with what the map holds, under a temporary name first. */
  async #rewrite(): Promise<void> {
    const tmp = `${this.#file}.${process.pid}.tmp`;
    const lines = [...this.#entries].map(([k, v]) => `${JSON.stringify({ k, v } satisfies Line)}\n`);
    await writeFile(tmp, lines.join(''), { mode: 0o600 });
    await rename(tmp, this.#file);
    this.#lines = lines.length;
  }

  #enqueue(write: () => Promise<void>): void {
    // A failed write loses only what the cache would have saved next time.
    this.#writing = this.#writing.then(write).catch(() => undefined);
  }
}

/** A file as the disk knows it: device, inode, size, mtime and ctime (which no user can set back). */
function identityOf(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** The identity of the file at `path`, or undefined when it is gone. */
async function onDisk(path: string): Promise<string | undefined> {
  try {
    return identityOf(await stat(path, { bigint: true }));
  } catch {
    return undefined;
  }
}

/**
 * Runs `check` on `path` unless the cache already knows the answer. Accepted
 * files and files the rules refuse (NVID_ERR_MEDIA_REJECTED) are remembered;
 * a failed or timed-out ffprobe run (the tool's fault, not the file's) is not.
 * Nor is the verdict on a file that was removed or changed while it was
 * checked (an upload whose send was cancelled meanwhile): ffprobe's "No such
 * file" says nothing about the content the key was made from, and remembering
 * it would refuse that content ever after.
 *
 * @returns the media and whether it came from the cache
 */
export async function checkWithCache(
  cache: ValidationCache,
  path: string,
  rules: string,
  side: CacheSide,
  check: () => Promise<MediaInfo>,
): Promise<{ media: MediaInfo; cached: boolean }> {
  const before = await onDisk(path);
  // A file that cannot be stat-ed or read is left to the check, which says why.
  const key = before === undefined ? undefined : await cache.keyOf(path, rules, side).catch(() => undefined);
  const known = key === undefined ? undefined : cache.get(key);
  if (known?.ok) return { media: known.media, cached: true };
  if (known) throw new NvidError('NVID_ERR_MEDIA_REJECTED', known.reason);
  const remember = async (result: CachedResult) => {
    if (key !== undefined && (await onDisk(path)) === before) cache.put(key, result);
  };
  try {
    const media = await check();
    await remember({ ok: true, media });
    return { media, cached: false };
  } catch (err) {
    if (isNvidError(err, 'NVID_ERR_MEDIA_REJECTED')) await remember({ ok: false, reason: err.message });
    throw err;
  }
}
