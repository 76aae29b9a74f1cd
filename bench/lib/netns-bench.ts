/** What the namespace benches (fanout-netns, resume) share: flags, the root check, cached media, cleanup on Ctrl-C. */
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../harness/nvid.js';
import { fleetUnavailable, noiseVideo, type NetnsFleet } from '../../test/helpers/netns-fleet.js';

export const BENCH_DIR = join(REPO_ROOT, '.nvid-bench');
export const MEDIA_CACHE = join(BENCH_DIR, 'media');

export const figure = (name: string, value: number, unit: string) => process.stdout.write(`figure ${name} ${Number(value.toPrecision(4))} ${unit}\n`);
export const note = (text: string) => process.stderr.write(`${text}\n`);

/** The value after `--name`, or `fallback`. */
export function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/** Exits 0 with a message when namespaces cannot be made here (not root, no ip/tc). */
export function requireNamespaces(bench: string): void {
  const reason = fleetUnavailable();
  if (!reason) return;
  process.stdout.write(`${bench}: skipped: ${reason}. It builds a LAN of network namespaces with shaped links (ip, tc); run it as root: sudo npm run bench -- ${bench}\n`);
  process.exit(0);
}

/** A noise video of about `mb` MB (see noiseVideo), cached in .nvid-bench/media. */
export async function cachedVideo(mb: number, seed = 1): Promise<string> {
  mkdirSync(MEDIA_CACHE, { recursive: true });
  const file = join(MEDIA_CACHE, `netns-noise-${mb}MB-seed${seed}.mp4`);
  const started = Date.now();
  await noiseVideo(file, mb, seed);
  if (Date.now() - started > 1000) note(`made a ${mb} MB noise video with ffmpeg (cached: .nvid-bench/media/${file.slice(MEDIA_CACHE.length + 1)})`);
  return file;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Ctrl-C or SIGTERM: the fleet's processes and namespaces go before the bench exits. */
export function cleanUpOnSignal(fleet: () => NetnsFleet | undefined): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      note(`${signal}: removing the namespaces`);
      fleet()?.destroySync();
      process.exit(130);
    });
  }
}

export const MB = 1e6;
