/**
 * Browser sessions, in memory only: a restart logs everyone out, which is
 * what a local control page should do. Each session carries its own CSRF
 * token; a session ends after `ttlMs` without a request (sliding).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface Session {
  readonly id: string;
  readonly csrfToken: string;
  expiresAt: number;
}

const randomToken = () => randomBytes(32).toString('base64url');

export class SessionStore {
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #sessions = new Map<string, Session>();

  constructor(ttlMs: number, now: () => number = Date.now) {
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  create(): Session {
    this.#prune();
    const session = { id: randomToken(), csrfToken: randomToken(), expiresAt: this.#now() + this.#ttlMs };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id, its life extended; undefined when unknown or expired. */
  touch(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.#now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    session.expiresAt = this.#now() + this.#ttlMs;
    return session;
  }

  end(id: string): void {
    this.#sessions.delete(id);
  }

  get size(): number {
    return this.#sessions.size;
  }

  #prune(): void {
    const now = this.#now();
    for (const [id, session] of this.#sessions) if (session.expiresAt <= now) this.#sessions.delete(id);
  }
}

/** Whether the header a request carried is the session's CSRF token (compared in constant time). */
export function csrfMatches(session: Session, header: string | undefined): boolean {
  if (!header) return false;
  const given = Buffer.from(header);
  const wanted = Buffer.from(session.csrfToken);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
