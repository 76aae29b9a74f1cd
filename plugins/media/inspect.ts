/**
 * Turns ffprobe's JSON into a MediaInfo, or a rejection with a reason a person
 * can act on. Pure: no processes, no files, so every rule is unit-testable.
 *
 * ffprobe's exit code says little: it exits 0 for a text file renamed .png
 * (the image2 demuxer trusts the extension and reports a png "stream" of 0x0).
 * So the decision rests on the streams: a video stream with a real codec and a
 * positive picture size, in an allowed container, within the limits.
 */
import { NvidError } from '../../core/errors.js';
import type { MediaInfo, MediaKind } from '../../core/types.js';

/** Allow-lists and limits, as configured in the media plugin's options. */
export interface MediaPolicy {
  /** ffprobe format names; a file passes when any name of its comma list is here. */
  readonly containers: readonly string[];
  /** Codec names of the first video stream. */
  readonly codecs: readonly string[];
  readonly maxFileBytes: number;
  readonly maxWidth: number;
  readonly maxHeight: number;
  readonly maxPixels: number;
  readonly maxDurationSeconds: number;
  readonly maxFrames: number;
}

/** Demuxers that only ever hold a single picture (content-probed pipes, or image2 by extension). */
const STILL_CONTAINERS = new Set(['image2', 'png_pipe', 'jpeg_pipe', 'webp_pipe', 'bmp_pipe', 'gif_pipe', 'tiff_pipe', 'qoi_pipe', 'pam_pipe', 'ppm_pipe', 'jpegls_pipe']);

type Json = Record<string, unknown>;

function reject(reason: string, details?: Record<string, unknown>): never {
  throw new NvidError('NVID_ERR_MEDIA_REJECTED', reason, details ? { details } : undefined);
}

function asObject(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

/** ffprobe prints numbers as strings ("2.000000") or numbers, and "N/A" when unknown. */
export function numberField(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** "25/1" → 25; "0/0" → undefined. */
function rate(value: unknown): number | undefined {
  const text = stringField(value);
  if (!text) return undefined;
  const [num, den] = text.split('/').map(Number);
  return num !== undefined && den !== undefined && num > 0 && den > 0 ? num / den : undefined;
}

function checkSize(width: number, height: number, policy: MediaPolicy): void {
  if (width > policy.maxWidth || height > policy.maxHeight) {
    reject(`${width}x${height} exceeds limit ${policy.maxWidth}x${policy.maxHeight}`, { width, height });
  }
  if (width * height > policy.maxPixels) {
    reject(`${width}x${height} is ${width * height} pixels, over the limit of ${policy.maxPixels}`, { width, height });
  }
}

interface VideoStream {
  codec: string;
  width: number;
  height: number;
  frames: number | undefined;
  duration: number | undefined;
  fps: number | undefined;
}

function firstVideoStream(streams: readonly Json[]): VideoStream | undefined {
  for (const s of streams) {
    if (s.codec_type !== 'video') continue;
    // Cover art of an audio file is a "video" stream too, but not something to show.
    if (asObject(s.disposition)?.attached_pic === 1) continue;
    return {
      codec: stringField(s.codec_name) ?? 'none',
      width: numberField(s.width) ?? 0,
      height: numberField(s.height) ?? 0,
      frames: numberField(s.nb_frames),
      duration: numberField(s.duration),
      fps: rate(s.avg_frame_rate) ?? rate(s.r_frame_rate),
    };
  }
  return undefined;
}

/** A picture size the decoder refused, e.g. from "Picture size 30000x30000 is invalid" on ffprobe's stderr. */
export interface DeclaredSize {
  readonly width: number;
  readonly height: number;
}

/** Finds the size a header declared but the decoder refused to allocate. */
export function declaredPictureSize(stderr: string): DeclaredSize | undefined {
  const match = /Picture size (\d+)x(\d+) is invalid/.exec(stderr);
  return match ? { width: Number(match[1]), height: Number(match[2]) } : undefined;
}

/**
 * Decides whether ffprobe's report describes an allowed image or video.
 *
 * @param report the parsed `-print_format json -show_format -show_streams` output
 * @param size the file's size in bytes (from stat, not from ffprobe)
 * @param declared a size the decoder refused (a 0x0 stream is then judged by what its header claims)
 * @throws NvidError NVID_ERR_MEDIA_REJECTED with the reason as message
 */
export function inspectProbeReport(report: unknown, size: number, policy: MediaPolicy, declared?: DeclaredSize): MediaInfo {
  if (size > policy.maxFileBytes) reject(`file is ${size} bytes, over the limit of ${policy.maxFileBytes}`);
  if (size === 0) reject('not an image or video: the file is empty');
  const root = asObject(report);
  const format = asObject(root?.format);
  const container = stringField(format?.format_name);
  if (!root || !format || !container) reject('not an image or video: ffprobe recognised no container');
  const streams = (Array.isArray(root.streams) ? root.streams : []).map(asObject).filter((s): s is Json => s !== undefined);
  const video = firstVideoStream(streams);
  if (!video) {
    const hasAudio = streams.some((s) => s.codec_type === 'audio');
    reject(hasAudio ? `not an image or video: audio only (${container})` : `not an image or video: no video stream (${container})`);
  }
  const names = container.split(',');
  if (!names.some((name) => policy.containers.includes(name))) {
    reject(`not an allowed image or video: container "${container}" is not in the allow-list`, { container, codec: video.codec });
  }
  if (!policy.codecs.includes(video.codec)) {
    reject(`not an allowed image or video: codec "${video.codec}" in "${container}" is not in the allow-list`, { container, codec: video.codec });
  }
  if (!(video.width > 0 && video.height > 0) && declared) {
    // ffmpeg refuses to allocate huge pictures and reports 0x0; the header's claim is what to judge.
    checkSize(declared.width, declared.height, policy);
  }
  if (!(video.width > 0 && video.height > 0)) {
    // The text-renamed-.png case: image2 guessed png from the name, the decoder found no picture.
    reject(`not an image or video: the ${video.codec} stream has no readable picture size (${video.width}x${video.height})`, { container, codec: video.codec });
  }
  checkSize(video.width, video.height, policy);

  const still = names.some((name) => STILL_CONTAINERS.has(name));
  const duration = still ? 0 : (numberField(format.duration) ?? video.duration ?? 0);
  // nb_frames is in the container's index for mp4; otherwise estimate from the rate (cheap, no decoding).
  const frames = still ? 1 : (video.frames ?? (video.fps && duration > 0 ? Math.round(video.fps * duration) : 0));
  const kind: MediaKind = still || frames === 1 || duration <= 0 ? 'image' : 'video';
  if (duration > policy.maxDurationSeconds) reject(`duration ${duration.toFixed(1)} s exceeds limit ${policy.maxDurationSeconds} s`);
  if (frames > policy.maxFrames) reject(`${frames} frames exceed limit ${policy.maxFrames}`);

  return {
    kind,
    container,
    codec: video.codec,
    width: video.width,
    height: video.height,
    duration: kind === 'image' ? 0 : duration,
    frames: kind === 'image' ? 1 : frames,
    hasAudio: streams.some((s) => s.codec_type === 'audio'),
    size,
  };
}
