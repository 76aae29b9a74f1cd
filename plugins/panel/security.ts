/**
 * The panel's gate, run before every request: the Host must be the panel's
 * (DNS rebinding), an Origin if sent must be the panel's (cross-site
 * requests), `/api/*` needs a live session cookie, and what changes state
 * needs the session's CSRF token in `X-CSRF-Token`. The login link (a one-time
 * token) is the only way to get a session; failed logins are rate limited.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { NvidError } from '../../core/errors.js';
import { FailureLimiter } from './failure-limiter.js';
import { HostGuard } from './host-guard.js';
import { httpError } from './http-errors.js';
import { LoginTokens } from './login-tokens.js';
import { csrfMatches, SessionStore, type Session } from './sessions.js';

export const SESSION_COOKIE = 'nvid_panel';
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

declare module 'fastify' {
  interface FastifyRequest {
    /** The session of an `/api/*` request, set by the gate. */
    panelSession?: Session;
  }
}

export class PanelSecurity {
  readonly tokens: LoginTokens;
  readonly sessions: SessionStore;
  readonly failures = new FailureLimiter(10, 60_000);
  #guard: HostGuard | undefined;
  #secure = false;

  constructor(options: { loginTtlMs: number; sessionTtlMs: number }) {
    this.tokens = new LoginTokens(options.loginTtlMs);
    this.sessions = new SessionStore(options.sessionTtlMs);
  }

  /** Called once the port is known (it may be ephemeral). */
  listening(port: number, allowedHosts: readonly string[], secure: boolean): void {
    this.#guard = new HostGuard(port, allowedHosts, secure ? 'https' : 'http');
    this.#secure = secure;
  }

  /** Fastify `onRequest` hook: answers a refused request (the NvidError's status and body), or lets it through. */
  gate = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    try {
      this.#check(request);
    } catch (err) {
      // A refused WebSocket upgrade has no response object to answer on: the answer goes on the socket itself.
      if ((request as { ws?: boolean }).ws) return refuseUpgrade(request, reply, err);
      throw err;
    }
  };

  #check(request: FastifyRequest): void {
    const guard = this.#guard;
    if (!guard || !guard.hostAllowed(request.headers.host)) throw new NvidError('NVID_ERR_PANEL_HOST', `this panel does not answer to the host "${request.headers.host ?? ''}"`);
    if (!guard.originAllowed(request.headers.origin)) throw new NvidError('NVID_ERR_PANEL_ORIGIN', `requests from "${request.headers.origin}" are not allowed`);
    if (!request.url.startsWith('/api/') && request.url !== '/api') return;
    const session = this.sessions.touch(request.cookies[SESSION_COOKIE]);
    if (!session) throw new NvidError('NVID_ERR_PANEL_LOGIN', 'not logged in: open the link "nvid panel" prints');
    if (STATE_CHANGING.has(request.method) && !csrfMatches(session, headerValue(request.headers['x-csrf-token']))) {
      throw new NvidError('NVID_ERR_PANEL_CSRF', 'the X-CSRF-Token header is missing or not this session\'s (GET /api/session gives it)');
    }
    request.panelSession = session;
  }

  /** `GET /login?token=`: a session cookie and `/` for a live token, a page saying what to do otherwise. */
  login = async (request: FastifyRequest<{ Querystring: { token?: string } }>, reply: FastifyReply): Promise<void> => {
    const address = request.ip;
    if (this.failures.blocked(address)) {
      return void reply.code(429).header('retry-after', '60').type('text/html; charset=utf-8').send(page('Too many attempts', 'Too many failed logins from this address in the last minute. Wait a minute, then run <code>nvid panel</code> again.'));
    }
    if (!request.query.token || !this.tokens.redeem(request.query.token)) {
      this.failures.fail(address);
      return void reply.code(401).type('text/html; charset=utf-8').send(page('This login link does not work', 'The link is unknown, was already used, or expired (links last 10 minutes and work once). Run <code>nvid panel</code> again for a new one.'));
    }
    const session = this.sessions.create();
    reply.setCookie(SESSION_COOKIE, session.id, { httpOnly: true, sameSite: 'strict', path: '/', secure: this.#secure });
    // 303: the browser GETs / and the token leaves the address bar (and its history entry).
    return void reply.code(303).header('location', '/').send();
  };

  logout(request: FastifyRequest, reply: FastifyReply): void {
    if (request.panelSession) this.sessions.end(request.panelSession.id);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
  }
}

function refuseUpgrade(request: FastifyRequest, reply: FastifyReply, err: unknown): void {
  const { status, body } = httpError(err);
  const text = JSON.stringify(body);
  reply.hijack();
  request.raw.socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function page(title: string, text: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>nvid panel: ${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>\n`;
}
