/**
 * Test media, made at test time with ffmpeg's lavfi sources (nothing binary is
 * committed), plus the deliberately bad files the media plugin must refuse.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deflateSync } from 'node:zlib';

const run = promisify(execFile);

/** Runs ffmpeg quietly, overwriting the output; returns the output path. */
async function ffmpeg(out: string, args: readonly string[]): Promise<string> {
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args, out], { timeout: 60_000 });
  return out;
}

/** PNG bytes whatever the file is called (ffmpeg would otherwise pick the format from the extension). */
const AS_PNG = ['-c:v', 'png', '-f', 'image2pipe'];

/** A single-colour PNG. `colour` is any ffmpeg colour name or 0xRRGGBB. */
export function solidPng(dir: string, name: string, colour: string, size = '64x48'): Promise<string> {
  return ffmpeg(join(dir, name), ['-f', 'lavfi', '-i', `color=c=${colour}:s=${size}`, '-frames:v', '1', ...AS_PNG]);
}

/** A single-colour JPEG. */
export function solidJpeg(dir: string, name: string, colour: string, size = '64x48'): Promise<string> {
  return ffmpeg(join(dir, name), ['-f', 'lavfi', '-i', `color=c=${colour}:s=${size}`, '-frames:v', '1', '-q:v', '2', '-c:v', 'mjpeg', '-f', 'image2pipe']);
}

/** A PNG of ffmpeg's testsrc2 pattern (colour bars, moving parts). */
export function testPatternPng(dir: string, name: string, size = '320x240'): Promise<string> {
  return ffmpeg(join(dir, name), ['-f', 'lavfi', '-i', `testsrc2=s=${size}`, '-frames:v', '1', ...AS_PNG]);
}

/**
 * A lavfi graph of a picture made of bands: `top` over `bottom` halves
 * (`direction` rows), or vertical stripes left to right with the given widths
 * in pixels (`direction` columns). Its shape shows which way it was turned.
 */
function bands(size: string, direction: 'rows' | 'columns', colours: readonly (readonly [string, number])[]): string {
  let at = 0;
  const boxes = colours.slice(1).map(([colour, extent], i) => {
    at += colours[i]![1];
    return direction === 'rows' ? `drawbox=x=0:y=${at}:w=iw:h=${extent}:color=${colour}:t=fill` : `drawbox=x=${at}:y=0:w=${extent}:h=ih:color=${colour}:t=fill`;
  });
  return [`color=c=${colours[0]![0]}:s=${size}`, ...boxes].join(',');
}

/** A PNG with `top` colour above `bottom` (two halves): which way up it shows is plain to see. */
export function halvesPng(dir: string, name: string, top: string, bottom: string, size = '160x120'): Promise<string> {
  const h = Number(size.split('x')[1]);
  return ffmpeg(join(dir, name), ['-f', 'lavfi', '-i', bands(size, 'rows', [[top, h / 2], [bottom, h / 2]]), '-frames:v', '1', ...AS_PNG]);
}

/** A JPEG with `top` colour above `bottom`, no EXIF orientation. */
export function halvesJpeg(dir: string, name: string, top: string, bottom: string, size = '160x120'): Promise<string> {
  const h = Number(size.split('x')[1]);
  return ffmpeg(join(dir, name), ['-f', 'lavfi', '-i', bands(size, 'rows', [[top, h / 2], [bottom, h / 2]]), '-frames:v', '1', '-q:v', '2', '-c:v', 'mjpeg', '-f', 'image2pipe']);
}

/** An H.264 mp4 of `seconds` showing `top` colour above `bottom` throughout. */
export function halvesClip(dir: string, name: string, top: string, bottom: string, seconds = 3, size = '160x120'): Promise<string> {
  const h = Number(size.split('x')[1]);
  return ffmpeg(join(dir, name), ['-f', 'lavfi', '-i', `${bands(size, 'rows', [[top, h / 2], [bottom, h / 2]])},fps=25,trim=duration=${seconds}`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p']);
}

/**
 * A picture of vertical stripes, left to right, each `[colour, width]`; its
 * height is `height`. As a PNG, or as an H.264 mp4 of `seconds` when the name ends in .mp4.
 */
export function stripes(dir: string, name: string, colours: readonly (readonly [string, number])[], height: number, seconds = 3): Promise<string> {
  const size = `${colours.reduce((sum, [, w]) => sum + w, 0)}x${height}`;
  const graph = bands(size, 'columns', colours);
  if (name.endsWith('.mp4')) return ffmpeg(join(dir, name), ['-f', 'lavfi', '-i', `${graph},fps=25,trim=duration=${seconds}`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p']);
  return ffmpeg(join(dir, name), ['-f', 'lavfi', '-i', graph, '-frames:v', '1', ...AS_PNG]);
}

/**
 * An H.264 mp4 that shows each colour in turn for `secondsEach` seconds.
 * yuv420p so every player can decode it.
 */
export function colourClip(dir: string, name: string, colours: readonly string[], secondsEach = 0.5, size = '160x120', options: { faststart?: boolean } = {}): Promise<string> {
  const inputs = colours.map((c, i) => `color=c=${c}:s=${size}:r=25:d=${secondsEach}[v${i}]`).join(';');
  const graph = `${inputs};${colours.map((_, i) => `[v${i}]`).join('')}concat=n=${colours.length}:v=1:a=0`;
  return ffmpeg(join(dir, name), ['-f', 'lavfi', '-i', graph, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', ...(options.faststart ? ['-movflags', '+faststart'] : [])]);
}

/**
 * A Matroska video of lossless x264 noise: it does not compress, so its size
 * is about `frames` x 1.5 bytes a pixel (115 KB a frame at the default size).
 */
export function noiseVideo(dir: string, name: string, frames: number, size = '320x240'): Promise<string> {
  return ffmpeg(join(dir, name), ['-f', 'lavfi', '-i', `nullsrc=s=${size}:r=25,geq=lum=random(1)*255:cb=128:cr=128`, '-frames:v', String(frames), '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-f', 'matroska']);
}

/**
 * An EXIF APP1 segment holding only an orientation tag, in either byte order,
 * as a camera writes it. `value` is written as given (tests feed bad ones too).
 */
export function exifOrientationSegment(value: number, byteOrder: 'II' | 'MM' = 'II'): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  const little = byteOrder === 'II';
  const u16 = (v: number, at: number) => (little ? tiff.writeUInt16LE(v, at) : tiff.writeUInt16BE(v, at));
  const u32 = (v: number, at: number) => (little ? tiff.writeUInt32LE(v, at) : tiff.writeUInt32BE(v, at));
  tiff.write(byteOrder, 0, 'latin1');
  u16(42, 2);
  u32(8, 4); // IFD0 right after the header
  u16(1, 8); // one entry
  u16(0x0112, 10); // Orientation
  u16(3, 12); // SHORT
  u32(1, 14); // one value
  u16(value, 18); // left-justified in the value field
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
}

/** `jpeg` with `segment` inserted after its start-of-image marker (and after ffmpeg's JFIF APP0, as cameras order them). */
export function withSegment(jpeg: Buffer, segment: Buffer): Buffer {
  const app0 = jpeg[2] === 0xff && jpeg[3] === 0xe0 ? 4 + jpeg.readUInt16BE(4) : 2;
  return Buffer.concat([jpeg.subarray(0, app0), segment, jpeg.subarray(app0)]);
}

/**
 * A photo as a phone stores a portrait shot: the sensor's landscape picture
 * (`top` colour above `bottom`) with EXIF orientation `orientation`. Turned
 * upright for orientation 6, `top` ends up on the right.
 */
export async function sidewaysPhoto(dir: string, name: string, top: string, bottom: string, orientation = 6, size = '160x120'): Promise<string> {
  const [w, h] = size.split('x').map(Number) as [number, number];
  const plain = await ffmpeg(join(dir, `${name}.plain.jpg`), ['-f', 'lavfi', '-i', `color=c=${top}:s=${size},drawbox=x=0:y=${h / 2}:w=${w}:h=${h / 2}:color=${bottom}:t=fill`, '-frames:v', '1', '-q:v', '2', '-c:v', 'mjpeg', '-f', 'image2pipe']);
  const out = join(dir, name);
  await writeFile(out, withSegment(await readFile(plain), exifOrientationSegment(orientation)));
  return out;
}

/** An H.264 + AAC mp4: ffmpeg's test pattern with a steady sine tone of `hz` under it. */
export function clipWithTone(dir: string, name: string, hz: number, seconds = 2, size = '160x120'): Promise<string> {
  return ffmpeg(join(dir, name), [
    '-f', 'lavfi', '-i', `testsrc2=s=${size}:r=25:d=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=${hz}:sample_rate=44100:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-ac', '1', '-shortest',
  ]);
}

/** An animated GIF that shows each colour in turn for `secondsEach` seconds (one round; GIFs loop in every browser). */
export function animatedGif(dir: string, name: string, colours: readonly string[], secondsEach = 0.5, size = '160x120'): Promise<string> {
  const inputs = colours.map((c, i) => `color=c=${c}:s=${size}:r=10:d=${secondsEach}[v${i}]`).join(';');
  const graph = `${inputs};${colours.map((_, i) => `[v${i}]`).join('')}concat=n=${colours.length}:v=1:a=0`;
  return ffmpeg(join(dir, name), ['-f', 'lavfi', '-i', graph, '-f', 'gif']);
}

/** A plain text file with an image's name: ffprobe exits 0 on it. */
export async function textAsPng(dir: string, name = 'not-an-image.png'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, 'This is a text file wearing a .png name.\nIt holds no picture at all.\n');
  return path;
}

/**
 * An mp4 cut to `fraction` of its length. With `faststart` the index stays and
 * ffprobe still reads it cleanly; without, the index (at the end) is lost.
 */
export async function truncatedMp4(dir: string, name = 'truncated.mp4', options: { faststart?: boolean; fraction?: number } = {}): Promise<string> {
  const full = await colourClip(dir, `full-${name}`, ['red', 'green', 'blue', 'yellow'], 0.5, '160x120', options);
  const bytes = await readFile(full);
  const path = join(dir, name);
  await writeFile(path, bytes.subarray(0, Math.floor(bytes.length * (options.fraction ?? 0.6))));
  return path;
}

/** Random bytes with a video's name. */
export async function randomBytesFile(dir: string, name = 'random.mp4', size = 64 * 1024): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, randomBytes(size));
  return path;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A small PNG whose header declares `width` x `height` (a "decompression
 * bomb" header): valid signature, IHDR with a correct CRC, a tiny IDAT, IEND.
 */
export function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(2, 9); // colour type: RGB
  // compression, filter, interlace: 0
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(Buffer.alloc(1 + 3 * 4))), pngChunk('IEND', Buffer.alloc(0))]);
}

/** Writes `pngDeclaring(width, height)` to a file. */
export async function hugePng(dir: string, name = 'huge.png', width = 30000, height = 30000): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, pngDeclaring(width, height));
  return path;
}
