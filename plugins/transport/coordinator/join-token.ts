/**
 * The coordinator's join token under the `token` admission policy: judged
 * (no placeholder, nothing short), or made on first start and kept in the
 * state folder, owner-only, so no two installations ever share a secret
 * copied from an example config. Nodes read it from their config, or from a
 * copy of the file (`joinTokenFile`).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NvidError } from '../../../core/errors.js';
import type { AdmissionPolicy } from './coordinator-server.js';

/** The file in the coordinator's state folder that holds a generated token. */
export const JOIN_TOKEN_FILE = 'join-token';

/**
 * Anyone who can reach the coordinator's port may try tokens, and a token of
 * a few characters is a word or a date a dictionary finds. Sixteen is the
 * shortest length at which even a random hex string (64 bits) cannot be
 * guessed online, and it rules out single words and short phrases.
 * Generated tokens are 43 characters (32 random bytes).
 */
export const MIN_JOIN_TOKEN_LENGTH = 16;

/** Random bytes in a generated token (base64url, 43 characters). */
const GENERATED_TOKEN_BYTES = 32;

/**
 * Tokens everyone has read: the one our example configs used to carry, and the
 * usual stand-ins. Compared in lower case with separators (`-`, `_`, spaces, dots) dropped.
 */
const PLACEHOLDERS = new Set(['changemetoalongrandomsecret', 'changeme', 'secret', 'password', 'token', 'jointoken', 'placeholder', 'example', 'replaceme', 'yoursecret', 'yourtoken']);
/** Whatever starts like this was meant to be replaced ("change-me-...", "CHANGE_ME_later"). */
const PLACEHOLDER_PREFIX = 'changeme';

export type WeakTokenReason = 'placeholder' | 'short';

/** Why `token` must not guard a coordinator, or undefined if it may. */
export function weakTokenReason(token: string): WeakTokenReason | undefined {
  const folded = token.toLowerCase().replace(/[\s._-]+/g, '');
  if (PLACEHOLDERS.has(folded) || folded.startsWith(PLACEHOLDER_PREFIX)) return 'placeholder';
  if (token.trim().length < MIN_JOIN_TOKEN_LENGTH) return 'short';
  return undefined;
}

/**
 * Refuses a weak token with a message saying what is wrong and how to fix it.
 * `source` names where it came from (an option or a file) and `fix` the way out.
 * The token itself is never quoted: even a weak one is somebody's secret.
 */
export function assertStrongToken(token: string, source: string, fix: string): void {
  const reason = weakTokenReason(token);
  if (!reason) return;
  const what = reason === 'placeholder'
    ? `${source} is a well-known placeholder (of the kind example configs carry), so anyone could join with it`
    : `${source} has ${token.trim().length} characters; at least ${MIN_JOIN_TOKEN_LENGTH} are needed, since anyone who reaches the coordinator may try tokens`;
  throw new NvidError('NVID_ERR_WEAK_TOKEN', `${what}; ${fix}`, { details: { reason, minLength: MIN_JOIN_TOKEN_LENGTH } });
}

/** What to do about a weak token in the config. */
export const CONFIG_TOKEN_FIX = 'remove transport.admission.token to have the coordinator generate a strong one on first start (kept in its state folder), or set a long random one, e.g. from `openssl rand -base64 32`';

/**
 * The token kept at `path`, made now if there is none yet. The file is
 * owner-only; one that others may read, or that holds a weak token, is
 * refused rather than silently replaced, since every node holds a copy.
 */
export function loadOrCreateJoinToken(path: string): { token: string; created: boolean } {
  const existing = readKeptToken(path);
  if (existing !== undefined) return { token: existing, created: false };
  const token = randomBytes(GENERATED_TOKEN_BYTES).toString('base64url');
  // Written under a temporary name and linked into place: a crash never leaves half a token,
  // and of two coordinators started at once on one folder, the second reads the first's.
  const tmp = `${path}.tmp-${process.pid}`;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeFileSync(fd, `${token}\n`);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { token: readKeptToken(path)!, created: false };
  } finally {
    unlinkSync(tmp);
  }
  return { token, created: true };
}

function readKeptToken(path: string): string | undefined {
  let stat;
  try {
    stat = statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const remake = `delete ${path} to have a new one made (every node then needs the new token)`;
  if ((stat.mode & 0o077) !== 0) {
    throw new NvidError('NVID_ERR_WEAK_TOKEN', `join token file ${path} is readable by group or others (mode ${(stat.mode & 0o777).toString(8)}); run: chmod 600 ${path}, or ${remake}`, { details: { reason: 'exposed' } });
  }
  const token = readFileSync(path, 'utf8').trim();
  assertStrongToken(token, `the join token in ${path}`, remake);
  return token;
}

/** A node's copy of the token (`joinTokenFile`): the first line, trimmed. */
export function readJoinTokenFile(path: string): string {
  const token = readFileSync(path, 'utf8').split('\n')[0]!.trim();
  if (token === '') throw new NvidError('NVID_ERR_PLUGIN_OPTIONS', `transport.joinTokenFile ${path} is empty`);
  return token;
}

/** The admission policy a coordinator runs with, its token filled in, and where a generated token is kept. */
export interface ResolvedAdmission {
  readonly admission: AdmissionPolicy;
  /** Set when the token is the generated one (none in the config). */
  readonly generated?: { readonly path: string; readonly created: boolean };
}

/**
 * The coordinator's admission as configured, with the `token` policy's token
 * judged, or (none configured) loaded from `stateDir`, made there on first start.
 */
export function resolveAdmission(admission: AdmissionPolicy, stateDir: string): ResolvedAdmission {
  if (admission.policy !== 'token') return { admission };
  if (admission.token !== undefined) {
    assertStrongToken(admission.token, 'transport.admission.token', CONFIG_TOKEN_FIX);
    return { admission };
  }
  const path = join(stateDir, JOIN_TOKEN_FILE);
  const { token, created } = loadOrCreateJoinToken(path);
  return { admission: { ...admission, token }, generated: { path, created } };
}

/**
 * A node's token read from `path` at each join attempt, so a node started
 * before the coordinator made its token (both at boot on one machine) joins
 * once it exists. A file it cannot read is reported once per distinct problem
 * through `warn`; the attempt then goes without a token and is refused.
 */
export function tokenFromFile(path: string, warn: (message: string) => void): () => string | undefined {
  let lastProblem = '';
  return () => {
    try {
      const token = readJoinTokenFile(path);
      lastProblem = '';
      return token;
    } catch (err) {
      const problem = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      if (problem !== lastProblem) {
        lastProblem = problem;
        warn(`cannot read the join token from transport.joinTokenFile ${path} (${problem}); it should hold the coordinator's token (the join-token file in its state folder)`);
      }
      return undefined;
    }
  };
}

/** What a person starting a new coordinator reads once: where the token is, and the node options that join with it. */
export function joinInstructions(o: { path: string; token: string; host: string; port: number; fingerprint: string }): string {
  // A coordinator listening on every address cannot know which one its nodes reach.
  const host = o.host === '0.0.0.0' || o.host === '::' ? "<this machine's address>" : o.host;
  return [
    `nvid coordinator: made a join token, kept owner-only in ${o.path} and used on every start.`,
    'A node joins with these transport options (on this machine, "joinTokenFile" naming that file works too):',
    `  "coordinator": { "host": "${host}", "port": ${o.port}, "fingerprint": "${o.fingerprint}" },`,
    `  "joinToken": "${o.token}"`,
    '',
  ].join('\n');
}
