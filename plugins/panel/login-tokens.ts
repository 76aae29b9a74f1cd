/**
 * One-time login tokens: `nvid panel` mints one, `GET /login?token=` redeems
 * it once, within its time. Only their SHA-256 is kept, so a token never sits
 * in memory in a form that could be replayed from a heap dump.
 */
import { createHash, randomBytes } from 'node:crypto';

const digest = (token: string) => createHash('sha256').update(token).digest('base64url');

export class LoginTokens {
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** SHA-256 of each live token -> when it expires. */
  readonly #live = new Map<string, number>();

  constructor(ttlMs: number, now: () => number = Date.now) {
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** A fresh token (32 random bytes, base64url) and when it expires. */
  mint(): { token: string; expiresAt: number } {
    this.#prune();
    const token = randomBytes(32).toString('base64url');
    const expiresAt = this.#now() + this.#ttlMs;
    this.#live.set(digest(token), expiresAt);
    return { token, expiresAt };
  }

  /** True once for a live token; false for an unknown, used or expired one. */
  redeem(token: string): boolean {
    const key = digest(token);
    const expiresAt = this.#live.get(key);
    this.#live.delete(key);
    return expiresAt !== undefined && expiresAt > this.#now();
  }

  #prune(): void {
    const now = this.#now();
    for (const [key, expiresAt] of this.#live) if (expiresAt <= now) this.#live.delete(key);
  }
}
