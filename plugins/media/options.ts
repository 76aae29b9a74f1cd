/**
 * The media plugin's options: their JSON schema (validated by the core with
 * ajv, defaults filled in) and their TypeScript shape.
 */
import type { MediaPolicy } from './inspect.js';

/** Demuxers of the allowed images and videos, as ffprobe names them. */
export const DEFAULT_CONTAINERS = ['png_pipe', 'jpeg_pipe', 'webp_pipe', 'bmp_pipe', 'gif', 'gif_pipe', 'image2', 'mov', 'mp4', 'matroska', 'webm'];
/** Codecs of the allowed images and videos. */
export const DEFAULT_CODECS = ['png', 'mjpeg', 'webp', 'gif', 'bmp', 'h264', 'hevc', 'vp8', 'vp9', 'av1', 'mpeg4'];

/** Options of the media plugin, after defaults. */
export interface MediaOptions extends MediaPolicy {
  /** Path (or bare name on PATH) of ffprobe; unset: PATH, then the ffprobe-static package. */
  readonly ffprobe?: string;
  /** How long one ffprobe run may take. */
  readonly probeTimeoutMs: number;
  /** Remembered checks (validation-cache.ts). */
  readonly cache: {
    readonly enabled: boolean;
    readonly maxEntries: number;
    readonly hashLimitBytes: number;
  };
}

const nameList = (defaults: string[], description: string) => ({
  type: 'array',
  items: { type: 'string', minLength: 1 },
  uniqueItems: true,
  default: defaults,
  description,
});

/** JSON schema of MediaOptions (ajv 8, strict). */
export const MEDIA_OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ffprobe: { type: 'string', minLength: 1, description: 'path of ffprobe; default: PATH, then the ffprobe-static package' },
    probeTimeoutMs: { type: 'integer', minimum: 100, default: 10000, description: 'deadline for one ffprobe run' },
    cache: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'remembered checks, in the state folder (media-cache.jsonl)',
      properties: {
        enabled: { type: 'boolean', default: true },
        maxEntries: { type: 'integer', minimum: 1, default: 50_000, description: 'results kept, the newest win' },
        hashLimitBytes: { type: 'integer', minimum: 0, default: 16 * 1024 ** 2, description: 'files up to this size are known by content; larger library files by inode, size, mtime and ctime' },
      },
    },
    containers: nameList(DEFAULT_CONTAINERS, 'allowed ffprobe format names'),
    codecs: nameList(DEFAULT_CODECS, 'allowed codecs of the first video stream'),
    maxFileBytes: { type: 'integer', minimum: 1, default: 2 * 1024 ** 3, description: 'largest file accepted' },
    maxWidth: { type: 'integer', minimum: 1, default: 16384 },
    maxHeight: { type: 'integer', minimum: 1, default: 16384 },
    maxPixels: { type: 'integer', minimum: 1, default: 128 * 1024 * 1024, description: 'width x height limit' },
    maxDurationSeconds: { type: 'number', exclusiveMinimum: 0, default: 4 * 3600 },
    maxFrames: { type: 'integer', minimum: 1, default: 1_000_000 },
  },
} as const;

const limits = MEDIA_OPTIONS_SCHEMA.properties;

/** The rules a media plugin listed without options applies. */
export const DEFAULT_MEDIA_POLICY: MediaPolicy = {
  containers: DEFAULT_CONTAINERS,
  codecs: DEFAULT_CODECS,
  maxFileBytes: limits.maxFileBytes.default,
  maxWidth: limits.maxWidth.default,
  maxHeight: limits.maxHeight.default,
  maxPixels: limits.maxPixels.default,
  maxDurationSeconds: limits.maxDurationSeconds.default,
  maxFrames: limits.maxFrames.default,
};
