/**
 * Every error nvid raises on purpose carries a stable `code`. Tests and
 * scripts match on the code, never the message text. All codes live here, so
 * `docs/errors.md` can be checked against this list (test/unit/errors.test.ts).
 */
export const ERROR_CODES = {
  // configuration and plugins
  NVID_ERR_CONFIG_READ: 'the config file cannot be read or is not valid JSON',
  NVID_ERR_CONFIG_INVALID: 'the config does not match its schema; every problem is listed with its key path',
  NVID_ERR_PLUGIN_NOT_FOUND: 'a plugin listed in the config cannot be found (bundled name, path or package)',
  NVID_ERR_PLUGIN_SHAPE: 'a plugin module does not export a class or object with apply(daemon)',
  NVID_ERR_PLUGIN_OPTIONS: "a plugin's options do not match the plugin's own schema",
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
  // peers and transport
  NVID_ERR_UNKNOWN_PEER: 'no admitted peer has that name or ID',
  NVID_ERR_AMBIGUOUS_PEER: 'more than one peer matches that name',
  NVID_ERR_BAD_FRAME: 'a frame on the wire is malformed, too large or of an unknown type or version',
  NVID_ERR_FRAME_TOO_LARGE: 'a length prefix exceeds the configured limit',
  NVID_ERR_TIMEOUT: "a peer did not answer, authenticate or send in time (a body slower than the receiver's floor counts too)",
  NVID_ERR_NOT_ADMITTED: 'the coordinator refused to admit this node (token or fingerprint policy)',
  NVID_ERR_UNTRUSTED_PEER: 'a TLS peer presented a certificate that is not an admitted peer',
  NVID_ERR_COORDINATOR_MISMATCH: "the coordinator's certificate does not match the pinned fingerprint",
  NVID_ERR_CONNECTION: 'a connection failed or closed before the exchange finished',
  NVID_ERR_DELIVERY: 'the receiver did not acknowledge a transfer',
  NVID_ERR_REFUSED: 'the receiver refused the transfer (policy, validation or decryption); the reason is attached',
  NVID_ERR_NO_SPACE: "the receiver's disk has no room for the file (checked when its header arrives, or it filled up during the transfer)",
  // crypto
  NVID_ERR_BAD_ENVELOPE: 'an envelope header or layout is malformed',
  NVID_ERR_BAD_SIGNATURE: "the envelope header signature does not verify against the sender's certificate",
  NVID_ERR_WRONG_RECIPIENT: 'the envelope is addressed to another node',
  NVID_ERR_KEY_UNWRAP: 'the wrapped transfer key cannot be unwrapped with this node\'s key',
  NVID_ERR_CHUNK_AUTH: 'a chunk failed authentication (altered, reordered or swapped)',
  NVID_ERR_TRUNCATED: 'the stream ended before its final chunk',
  NVID_ERR_TRAILING_DATA: 'data followed the final chunk',
  NVID_ERR_REPLAY: 'a transfer ID was seen before',
  NVID_ERR_STALE: 'the envelope timestamp is outside the accepted window',
  NVID_ERR_BAD_FILE_NAME: 'a file name from the wire is unusable even after sanitising',
  // media and display
  NVID_ERR_MEDIA_REJECTED: 'the file is not an allowed image or video; the reason is attached',
  NVID_ERR_PROBE_FAILED: 'ffprobe failed, timed out or printed unreadable output',
  NVID_ERR_BINARY_MISSING: 'ffmpeg, ffprobe or ffplay cannot be found; the message says what to install',
  NVID_ERR_PLAYER: 'the media player crashed or hung',
  NVID_ERR_DISPLAY_UNAVAILABLE: 'no X display can be opened',
  // drop folder
  NVID_ERR_DROP_TARGET: 'a dropped file has no target peer (no subfolder and no configured target)',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Base of every deliberate nvid error: a stable `code` plus optional details. */
export class NvidError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NvidError';
    this.code = code;
    this.details = options?.details;
  }

  /** The shape sent over the control socket and the wire: data only. */
  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

/** Rebuilds an error received as data (control socket, wire) without trusting its code blindly. */
export function errorFromJSON(data: unknown): NvidError {
  const obj = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const code = typeof obj.code === 'string' && obj.code in ERROR_CODES ? (obj.code as ErrorCode) : 'NVID_ERR_CONTROL_PROTOCOL';
  const message = typeof obj.message === 'string' ? obj.message : 'unreadable error';
  const details = typeof obj.details === 'object' && obj.details !== null ? (obj.details as Record<string, unknown>) : undefined;
  return new NvidError(code, message, details ? { details } : undefined);
}

/** Anything thrown, as an NvidError: unknown errors keep their message under a generic code. */
export function asNvidError(err: unknown, fallback: ErrorCode = 'NVID_ERR_HOOK'): NvidError {
  if (err instanceof NvidError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new NvidError(fallback, message, { cause: err });
}

export function isNvidError(err: unknown, code?: ErrorCode): err is NvidError {
  return err instanceof NvidError && (code === undefined || err.code === code);
}
