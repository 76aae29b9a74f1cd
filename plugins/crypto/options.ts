/**
 * Options of the crypto plugin: the JSON schema the core validates them
 * against (ajv, `useDefaults: true`), and the same defaults applied here so
 * the plugin also works when constructed directly (tests, embedding).
 */

/** Smallest and largest chunk a sender may choose; the receiver enforces its own wire bounds. */
export const MIN_OPTION_CHUNK_SIZE = 4096;
export const MAX_OPTION_CHUNK_SIZE = 4 * 1024 * 1024;

/** Options of the crypto plugin, after defaults. */
export interface CryptoOptions {
  /** Plaintext bytes per authenticated chunk. 64 KiB is where OpenSSL's AES-GCM runs fastest here. */
  readonly chunkSize: number;
  /** How old an envelope may be; transfer IDs are remembered this long (plus the clock skew). */
  readonly replayWindowMs: number;
  /** How far in the future a sender's clock may be. */
  readonly maxClockSkewMs: number;
  /** File (relative to the state folder) where seen transfer IDs survive restarts. */
  readonly replayFile: string;
}

export const DEFAULT_OPTIONS: CryptoOptions = Object.freeze({
  chunkSize: 256 * 1024,
  replayWindowMs: 3_600_000,
  maxClockSkewMs: 300_000,
  replayFile: 'crypto-replay.log',
});

/** JSON schema (draft-07, ajv 8) of the plugin's options. */
export const OPTIONS_SCHEMA = Object.freeze({
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'nvid crypto plugin options',
  type: 'object',
  additionalProperties: false,
  properties: {
    chunkSize: {
      description: 'Plaintext bytes per authenticated chunk',
      type: 'integer',
      minimum: MIN_OPTION_CHUNK_SIZE,
      maximum: MAX_OPTION_CHUNK_SIZE,
      default: DEFAULT_OPTIONS.chunkSize,
    },
    replayWindowMs: {
      description: 'Envelopes older than this are stale; transfer IDs are remembered this long',
      type: 'integer',
      minimum: 60_000,
      maximum: 30 * 24 * 3_600_000,
      default: DEFAULT_OPTIONS.replayWindowMs,
    },
    maxClockSkewMs: {
      description: "How far ahead of this node's clock a sender's timestamp may be",
      type: 'integer',
      minimum: 0,
      maximum: 3_600_000,
      default: DEFAULT_OPTIONS.maxClockSkewMs,
    },
    replayFile: {
      description: 'File in the state folder that remembers seen transfer IDs across restarts',
      type: 'string',
      minLength: 1,
      maxLength: 255,
      pattern: '^[A-Za-z0-9._-]+$',
      default: DEFAULT_OPTIONS.replayFile,
    },
  },
});

/** Fills in defaults for options that were not validated by the core (direct construction). */
export function resolveOptions(options: Partial<CryptoOptions> | undefined): CryptoOptions {
  const resolved = { ...DEFAULT_OPTIONS, ...(options ?? {}) };
  const { chunkSize } = resolved;
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_OPTION_CHUNK_SIZE || chunkSize > MAX_OPTION_CHUNK_SIZE) {
    throw new RangeError(`crypto chunkSize must be an integer in [${MIN_OPTION_CHUNK_SIZE}, ${MAX_OPTION_CHUNK_SIZE}], got ${chunkSize}`);
  }
  return Object.freeze(resolved);
}
