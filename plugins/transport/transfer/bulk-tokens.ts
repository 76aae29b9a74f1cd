/**
 * The receiver's table of bulk-channel tokens: each binds one future plain
 * TCP connection to one transfer whose TLS session is authenticated. A token
 * is single use and short lived; once claimed, cancelled or expired it never
 * opens anything again.
 */
import { newBulkToken } from './bulk-channel.js';

/** What presenting a token yields. */
export type BulkClaim<W> =
  | { readonly kind: 'claimed'; readonly waiter: W }
  /** Already claimed by an earlier connection: a replay, refused. */
  | { readonly kind: 'reused' }
  /** Its transfer ended (refused, aborted) before the bulk connection came: a late but honest sender, closed quietly. */
  | { readonly kind: 'cancelled' }
  /** Never issued, or expired and forgotten: refused. */
  | { readonly kind: 'unknown' };

interface Entry<W> {
  state: 'waiting' | 'claimed' | 'cancelled';
  readonly waiter: W;
  readonly timer: NodeJS.Timeout;
}

export class BulkTokens<W> {
  private readonly entries = new Map<string, Entry<W>>();
  /** How long a token may wait for its connection; also how long a used one is remembered as used. */
  readonly ttlMs: number;

  constructor(ttlMs: number) {
    this.ttlMs = ttlMs;
  }

  /** Tokens issued and not yet forgotten (for tests: nothing may pile up). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Issues a token for `waiter`. If no connection claims it within the TTL,
   * `onExpire` runs (the transfer fails) and the token is forgotten.
   */
  issue(waiter: W, onExpire: () => void): string {
    const token = newBulkToken();
    const timer = setTimeout(() => {
      const entry = this.entries.get(token);
      this.entries.delete(token);
      if (entry?.state === 'waiting') onExpire();
    }, this.ttlMs);
    timer.unref();
    this.entries.set(token, { state: 'waiting', waiter, timer });
    return token;
  }

  /** A connection presents `token`; only the first presentation of a waiting token succeeds. */
  claim(token: string): BulkClaim<W> {
    const entry = this.entries.get(token);
    if (!entry) return { kind: 'unknown' };
    if (entry.state === 'claimed') return { kind: 'reused' };
    if (entry.state === 'cancelled') return { kind: 'cancelled' };
    entry.state = 'claimed';
    return { kind: 'claimed', waiter: entry.waiter };
  }

  /** The transfer ended without needing the connection: a later presentation is closed quietly. */
  cancel(token: string): void {
    const entry = this.entries.get(token);
    if (entry?.state === 'waiting') entry.state = 'cancelled';
  }

  /** Forgets everything (server shutdown). */
  clear(): void {
    for (const entry of this.entries.values()) clearTimeout(entry.timer);
    this.entries.clear();
  }
}
