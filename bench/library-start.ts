/**
 * npm run bench -- library-start [--files 1000] [--trials 3]
 *
 * How long a screen node with a large kept library takes to show its first
 * picture: from the start command (`nvid node` spawned) to the first pixel of
 * a library item on a real Xvfb, watched by one continuous x11grab sampler.
 * The library holds 1,000 distinct 64x48 PNGs (red, each with a green dot in
 * its own place), made by one ffmpeg run and cached between runs.
 *
 * The same node is started cold first (no cache of checks: the baseline,
 * measured in the same run), left until its whole library is checked, stopped,
 * then started warm `--trials` times. Also reported: when the node logged
 * `library checked` (every file checked), cold and warm; before the cache and
 * the background scan, the first picture waited for exactly that.
 *
 * Prints:
 *   figure library_start_first_pixel_s MEDIAN s            (warm)
 *   figure library_start_cold_first_pixel_s S s
 *   figure library_start_warm_vs_cold_ratio R x
 *   figure library_start_all_checked_s MEDIAN s            (warm)
 *   figure library_start_cold_all_checked_s S s
 */
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster } from '../harness/cluster.js';
import { REPO_ROOT, waitFor } from '../harness/nvid.js';
import { ScreenSampler } from '../harness/screen.js';
import { startXvfb } from '../harness/xvfb.js';
import { median } from './lib/proc-stats.js';

const run = promisify(execFile);
const WORK = join(REPO_ROOT, '.nvid-bench', 'library-start');
const CACHE = join(REPO_ROOT, '.nvid-bench', 'media');
const SCREEN = { width: 320, height: 240 };

const arg = (name: string, fallback: number) => (process.argv.includes(`--${name}`) ? Number(process.argv[process.argv.indexOf(`--${name}`) + 1]) : fallback);
const figure = (name: string, value: number, unit: string) => process.stdout.write(`figure ${name} ${Number(value.toPrecision(4))} ${unit}\n`);
const note = (text: string) => process.stderr.write(`${text}\n`);

/** `count` distinct red 64x48 PNGs, each with a green dot somewhere else: one ffmpeg run, cached. */
async function imageSequence(count: number): Promise<string> {
  const dir = join(CACHE, `library-${count}`);
  if (existsSync(dir) && readdirSync(dir).length === count) return dir;
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const dot = 'lt(abs(X-mod(N\\,64))\\,2)*lt(abs(Y-mod(floor(N/64)\\,48))\\,2)';
  const graph = `color=c=red:s=64x48:r=25,format=rgb24,geq=r='if(${dot}\\,0\\,255)':g='if(${dot}\\,255\\,0)':b=0`;
  await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', graph, '-frames:v', String(count), join(tmp, '%04d.png')]);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

interface StartResult {
  /** Seconds from the spawn to the first red pixel. */
  readonly firstPixel: number;
  /** Seconds from the spawn to the `library checked` log line. */
  readonly allChecked: number;
  readonly cache: { hits: number; misses: number; entries: number } | null;
}

async function main(): Promise<void> {
  const files = arg('files', 1000);
  const trials = arg('trials', 3);
  note(`# load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const source = await imageSequence(files);
  rmSync(WORK, { recursive: true, force: true });
  const library = join(WORK, 'screen', 'state', 'library');
  mkdirSync(library, { recursive: true });
  chmodSync(join(WORK, 'screen', 'state'), 0o700);
  for (const name of readdirSync(source)) copyFileSync(join(source, name), join(library, `item-${name}`));

  const xvfb = await startXvfb(`${SCREEN.width}x${SCREEN.height}x24`);
  const sampler = new ScreenSampler(xvfb.display, xvfb.width, xvfb.height, 50);
  const cluster = new Cluster(WORK);
  const plugins = ['crypto', 'media', { use: 'display', options: { display: xvfb.display, policy: 'loop', imageSeconds: 2, audio: false } }];

  /** Starts the node, waits for its first picture and for its whole library to be checked, then stops it. */
  async function startOnce(label: string): Promise<StartResult> {
    // The screen is black (no node yet) before each start, so the first red is this start's.
    const black = Date.now() - sampler.startedAt;
    await sampler.waitFor((s) => s.t >= black && s.black, 10_000);
    const since = Date.now();
    const node = await cluster.startNode({ name: 'screen', plugins });
    const hit = await sampler.waitFor((s) => s.t >= since - sampler.startedAt && s.name === 'red', 600_000);
    const firstPixel = (hit.t - (since - sampler.startedAt)) / 1000;
    const line = await waitFor(() => node.stderr.split('\n').find((l) => l.includes('"library checked"')), `${label}: the library to be checked`, 1_200_000, 200);
    const allChecked = (Date.parse((JSON.parse(line) as { time: string }).time) - since) / 1000;
    // Where the time went, from the node's own log: its first line (the process is up) and the first `showing`.
    const at = (msg: string) => {
      const l = node.stderr.split('\n').find((x) => x.includes(`"msg":"${msg}"`));
      return l ? ((Date.parse((JSON.parse(l) as { time: string }).time) - since) / 1000).toFixed(2) : '-';
    };
    const firstLine = node.stderr.split('\n')[0];
    const up = firstLine?.startsWith('{') ? ((Date.parse((JSON.parse(firstLine) as { time: string }).time) - since) / 1000).toFixed(2) : '-';
    // NVID_BENCH_TRACE=1: the node's whole log on the same clock.
    if (process.env.NVID_BENCH_TRACE) {
      for (const l of node.stderr.split('\n').filter((x) => x.startsWith('{'))) {
        const j = JSON.parse(l) as { time: string; msg: string };
        note(`  ${((Date.parse(j.time) - since) / 1000).toFixed(3)} s ${j.msg}`);
      }
    }
    note(`# ${label}: first log line ${up} s, "showing" ${at('showing')} s`);
    const status = await node.control<{ media: { cache: StartResult['cache'] } }>('status');
    await node.stop();
    note(`# ${label}: first pixel ${firstPixel.toFixed(2)} s, all ${files} checked ${allChecked.toFixed(2)} s, cache ${JSON.stringify(status.media.cache)}`);
    return { firstPixel, allChecked, cache: status.media.cache };
  }

  try {
    await sampler.ready();
    await cluster.startCoordinator();
    const cold = await startOnce('cold');
    const warm: StartResult[] = [];
    for (let i = 0; i < trials; i++) warm.push(await startOnce(`warm ${i + 1}`));
    const misses = warm.reduce((n, w) => n + (w.cache?.misses ?? Number.NaN), 0);
    if (misses !== 0) note(`# warning: warm starts ran ${misses} checks the cache did not know`);
    const first = median(warm.map((w) => w.firstPixel));
    figure('library_start_first_pixel_s', first, 's');
    figure('library_start_cold_first_pixel_s', cold.firstPixel, 's');
    figure('library_start_warm_vs_cold_ratio', first / cold.firstPixel, 'x');
    figure('library_start_all_checked_s', median(warm.map((w) => w.allChecked)), 's');
    figure('library_start_cold_all_checked_s', cold.allChecked, 's');
    figure('library_start_files', files, 'files');
    note(`# warm first pixels ${warm.map((w) => w.firstPixel.toFixed(2)).join(' ')} s; load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    await cluster.stop();
    await sampler.stop();
    await xvfb.stop();
  }
}

await main();
