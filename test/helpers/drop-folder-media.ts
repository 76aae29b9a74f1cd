/**
 * Files for the drop-folder tests, made at test time: many small distinct
 * PNGs from one ffmpeg run, large noise PNGs, and a writer that puts a file
 * into a folder slowly, in pieces, the way a slow copy or download does.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sleep } from './nvid.js';

const run = promisify(execFile);

export const sha256Of = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/**
 * `count` distinct small PNGs (`<prefix>001.png`, ...) in `dir`: frames of
 * ffmpeg's moving testsrc2 pattern, written by a single ffmpeg run.
 * @returns their paths, in order
 */
export async function distinctPngs(dir: string, count: number, prefix = 'img', size = '96x72'): Promise<string[]> {
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=s=${size}:r=25`, '-frames:v', String(count), '-c:v', 'png', join(dir, `${prefix}%03d.png`)], { timeout: 60_000 });
  const files = readdirSync(dir).filter((n) => n.startsWith(prefix) && n.endsWith('.png')).sort().map((n) => join(dir, n));
  const hashes = new Set(files.map(sha256Of));
  if (files.length !== count || hashes.size !== count) throw new Error(`ffmpeg made ${files.length} frames with ${hashes.size} distinct contents, wanted ${count}`);
  return files;
}

/** A PNG of random pixels (incompressible: about width*height*3 bytes). */
export async function noisePng(path: string, width: number, height: number): Promise<string> {
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-i', '/dev/urandom', '-frames:v', '1', '-c:v', 'png', '-f', 'image2pipe', path], { timeout: 60_000 });
  return path;
}

/**
 * Writes `source` to `dest` in `pieces` parts with `pauseMs` between them,
 * straight under its final name (no temporary name): the drop folder must
 * wait for the last piece by itself.
 */
export async function writeSlowly(source: string, dest: string, pieces: number, pauseMs: number): Promise<void> {
  const data = readFileSync(source);
  const step = Math.ceil(data.length / pieces);
  const fd = openSync(dest, 'w');
  try {
    for (let offset = 0; offset < data.length; offset += step) {
      writeSync(fd, data, offset, Math.min(step, data.length - offset));
      if (offset + step < data.length) await sleep(pauseMs);
    }
  } finally {
    closeSync(fd);
  }
}

/** SHA-256 -> how many files in `dir` (not recursive) have that content. */
export function hashCounts(dir: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of readdirSync(dir)) {
    const hash = sha256Of(join(dir, name));
    counts.set(hash, (counts.get(hash) ?? 0) + 1);
  }
  return counts;
}
