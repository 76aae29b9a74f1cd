/**
 * Every error nvid raises on purpose carries a stable `code`. Tests and
 * scripts match on the code, never the message text. This file holds the
 * core's codes, including those that are part of a hook's contract (a
 * `validate` tap throws NVID_ERR_MEDIA_REJECTED); each plugin declares the
 * codes it adds in its own `errorCodes` table, and docs/errors.md lists them
 * all (test/unit/core/errors.test.ts checks both).
 */
import type { NvidErrorCode } from './types.js';

export type { NvidErrorCode } from './types.js';

export const ERROR_CODES = {
  // configuration and plugins
  NVID_ERR_CONFIG_READ: 'the config file cannot be read or is not valid JSON',
  NVID_ERR_CONFIG_INVALID: 'the config does not match its schema; every problem is listed with its key path',
  NVID_ERR_PLUGIN_NOT_FOUND: 'a plugin listed in the config cannot be found (bundled name, path or package)',
  NVID_ERR_PLUGIN_SHAPE: 'a plugin module does not export a class or object with apply(daemon), or declares itself wrongly (roles, error codes)',
  NVID_ERR_PLUGIN_API: 'a plugin was written for another plugin API version, or taps a hook that no longer exists; the message names what replaced it',
  NVID_ERR_PLUGIN_OPTIONS: "plugins' options do not match their own schemas; every problem of every plugin is listed",
  NVID_ERR_PLUGIN_APPLY: 'a plugin threw while tapping hooks in apply()',
  NVID_ERR_HOOK: 'a plugin threw inside a hook; the message names the hook and the plugin',
  NVID_ERR_NOT_AVAILABLE: 'no loaded plugin provides the capability a command needs',
  // identity and state
  NVID_ERR_STATE_DIR: 'the state folder cannot be created or has unsafe permissions',
  NVID_ERR_IDENTITY_CORRUPT: 'the key or certificate in the state folder cannot be parsed or do not match',
  NVID_ERR_IDENTITY_PERMISSIONS: 'the private key file is readable by others or owned by another user',
  // control endpoint and CLI
  NVID_ERR_NOT_RUNNING: 'no node is running on the control socket',
  NVID_ERR_ALREADY_RUNNING: 'another node already serves this state folder',
  NVID_ERR_CONTROL_PROTOCOL: 'a malformed request or reply on the control socket',
  NVID_ERR_USAGE: 'a command was called with wrong arguments',
  NVID_ERR_FILE_NOT_FOUND: 'the file to send does not exist or is not a regular file',
  NVID_ERR_CANCELLED: 'the send was cancelled by its caller (Ctrl-C, a closed control connection, a stopping plugin); the receiver keeps nothing',
  // peers and transfers, as the pipelines see them
  NVID_ERR_UNKNOWN_PEER: 'no admitted peer has that name or ID',
  NVID_ERR_AMBIGUOUS_PEER: 'more than one peer matches that name',
  NVID_ERR_PEER_CERTIFICATE: "a peer's certificate cannot be found (the coordinator does not know it) or its fingerprint is not the peer's ID",
  NVID_ERR_DELIVERY: 'the receiver did not acknowledge a transfer, or acknowledged something else',
  NVID_ERR_REFUSED: 'the receiver refused the transfer (policy, validation or decryption); the reason is attached',
  NVID_ERR_NO_SPACE: "the receiver's disk has no room for the file (checked when its header arrives, or it filled up during the transfer)",
  NVID_ERR_BAD_ENVELOPE: 'an envelope header or layout is malformed',
  NVID_ERR_BAD_SIGNATURE: "the envelope header signature does not verify against the sender's certificate",
  NVID_ERR_WRONG_RECIPIENT: 'the envelope is addressed to another node (or its signed recipient list does not name this node)',
  NVID_ERR_TRUNCATED: 'the stream ended before its final chunk',
  NVID_ERR_TRAILING_DATA: 'data followed the final chunk',
  NVID_ERR_BAD_FILE_NAME: 'a file name from the wire is unusable even after sanitising',
  NVID_ERR_NOT_CONTROLLER: "a peer asked to watch or steer this node's screen without being one of its controllers (config `controllers`, `nvid trust add PEER --as controller`)",
  NVID_ERR_LIBRARY_ITEM: 'a name that is not a file of this node\'s library (unknown, or a path, a hidden or a partial file)',
  // media (the validate hook's contract, and the tools every media plugin shares)
  NVID_ERR_MEDIA_REJECTED: 'the file is not an allowed image or video; the reason is attached',
  NVID_ERR_BINARY_MISSING: 'ffmpeg, ffprobe or ffplay cannot be found; the message says what to install',
} as const;

/** The core's own codes. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The shape every code has, core or plugin. */
export const ERROR_CODE_PATTERN = /^NVID_ERR_[A-Z0-9]+(?:_[A-Z0-9]+)*$/;

/** Base of every deliberate nvid error: a stable `code` plus optional details. */
export class NvidError extends Error {
  readonly code: NvidErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: NvidErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NvidError';
    this.code = code;
    this.details = options?.details;
  }

  /** The shape sent over the control socket and the wire: data only. */
  toJSON(): { code: NvidErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

/**
 * Rebuilds an error received as data (control socket, wire) without trusting its code blindly:
 * a code of the wrong shape becomes NVID_ERR_CONTROL_PROTOCOL. Plugin codes keep their code,
 * since the CLI talking to a node has not loaded that node's plugins.
 */
export function errorFromJSON(data: unknown): NvidError {
  const obj = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const code = typeof obj.code === 'string' && ERROR_CODE_PATTERN.test(obj.code) ? (obj.code as NvidErrorCode) : 'NVID_ERR_CONTROL_PROTOCOL';
  const message = typeof obj.message === 'string' ? obj.message : 'unreadable error';
  const details = typeof obj.details === 'object' && obj.details !== null ? (obj.details as Record<string, unknown>) : undefined;
  return new NvidError(code, message, details ? { details } : undefined);
}

/** Anything thrown, as an NvidError: unknown errors keep their message under a generic code. */
export function asNvidError(err: unknown, fallback: NvidErrorCode = 'NVID_ERR_HOOK'): NvidError {
  if (err instanceof NvidError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new NvidError(fallback, message, { cause: err });
}

export function isNvidError(err: unknown, code?: NvidErrorCode): err is NvidError {
  return err instanceof NvidError && (code === undefined || err.code === code);
}
