/**
 * How long from "file verified" (the core calling the display hook) to the
 * file's first pixel on screen, against bare `ffplay` of the same file started
 * in the same run on the same Xvfb. The screen is watched by one continuous
 * x11grab sampler for both, so its own delay cancels out in the ratio.
 *
 * Prints:
 *   figure display_first_pixel_ms MEDIAN ms
 *   figure display_vs_bare_ffplay_ratio R x
 * and the spread (min and max of each side's trials) and the load average
 * the trials ran under. `--busy N` runs N busy loops meanwhile, to see what
 * load does to each side: the plugin's path starts ffplay off screen, polls
 * for its window with xwininfo (a process every 15 ms) and moves it in with
 * xdotool, so it has more small processes to wait for on a busy machine
 * than bare ffplay has.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { basename } from 'node:path';
import DisplayPlugin from '../plugins/display/index.js';
import { findOnPath } from '../core/media-tools/binaries.js';
import { DEFAULT_MEDIA_POLICY } from '../plugins/media/options.js';
import { validateMediaFile } from '../plugins/media/validate-file.js';
import { solidPng } from '../test/helpers/media-fixtures.js';
import { ScreenSampler } from '../harness/screen.js';
import { startXvfb } from '../harness/xvfb.js';
import { construct, createTestHost, fakeMeta } from '../test/unit/media/test-host.js';
import { median } from './lib/proc-stats.js';

const TRIALS = Number(process.env.NVID_BENCH_TRIALS ?? 7);
const COLOURS = ['red', 'lime', 'blue', 'yellow', 'magenta', 'cyan', 'white'];

/** Milliseconds from `since` (a Date.now()) until the sampler sees `colour`. */
async function firstPixel(sampler: ScreenSampler, colour: string, since: number): Promise<number> {
  const hit = await sampler.waitFor((s) => s.t >= since - sampler.startedAt && s.name === colour, 15_000);
  return hit.t - (since - sampler.startedAt);
}

/** `n` processes spinning a core each, until killed. */
function busyLoops(n: number): Array<{ kill: () => void }> {
  return Array.from({ length: n }, () => {
    const child = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
    return { kill: () => child.kill('SIGKILL') };
  });
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

async function main(): Promise<void> {
  const busy = process.argv.includes('--busy') ? Number(process.argv[process.argv.indexOf('--busy') + 1]) : 0;
  const loops = busyLoops(busy);
  console.log(`# load average before: ${load()}${busy ? `; ${busy} busy loop(s) running` : ''}`);
  const xvfb = await startXvfb('320x240x24');
  const t = await createTestHost('bench');
  const sampler = new ScreenSampler(xvfb.display, xvfb.width, xvfb.height, 50);
  try {
    await sampler.ready();
    const ffprobe = findOnPath('ffprobe');
    const ffplay = findOnPath('ffplay');
    if (!ffprobe || !ffplay) throw new Error('ffprobe and ffplay are needed: apt-get install ffmpeg');
    const files = await Promise.all(COLOURS.map((c) => solidPng(t.dir, `${c}.png`, c, '320x240')));
    const media = await Promise.all(files.map((f) => validateMediaFile(ffprobe, f, DEFAULT_MEDIA_POLICY, 10_000)));

    // The display plugin: each verified file replaces the previous one. No player waits ahead for
    // JPEGs here (these are PNGs, and its one start would land in some trial): push-latency measures that.
    construct(DisplayPlugin, { display: xvfb.display, audio: false, policy: 'replace', imageSeconds: 0, warmStills: false }).apply(t.host);
    await t.hooks.beforeStart.promise({ role: 'node' });
    await t.hooks.start.promise({ role: 'node' });
    // Bare ffplay and the plugin take turns, so a busy spell of this shared machine hits both alike
    // (all bare trials first, then all plugin trials, once gave 1.84 x to a load that came and went).
    // Each trial shows a colour the screen does not show yet: bare ffplay's window opens over the plugin's.
    const bare: number[] = [];
    const plugin: number[] = [];
    try {
      for (let i = 0; i < TRIALS; i++) {
        let k = (2 * i) % files.length;
        let since = Date.now();
        const child = spawn(ffplay, ['-loglevel', 'error', '-noborder', '-x', '320', '-y', '240', '-left', '0', '-top', '0', '-an', files[k]!], { stdio: 'ignore', env: { ...process.env, DISPLAY: xvfb.display } });
        bare.push(await firstPixel(sampler, COLOURS[k]!, since));
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await gone;
        const after = Date.now() - sampler.startedAt;
        const bareColour = COLOURS[k]!;
        await sampler.waitFor((s) => s.t > after && s.name !== bareColour, 5000);

        k = (2 * i + 1) % files.length;
        since = Date.now();
        await t.hooks.display.promise({ path: files[k]!, media: media[k]!, meta: fakeMeta(basename(files[k]!), media[k]!) });
        plugin.push(await firstPixel(sampler, COLOURS[k]!, since));
        // Let the hand-over finish before the next trial.
        await new Promise((r) => setTimeout(r, 300));
      }
    } finally {
      await t.hooks.stop.promise({ role: 'node' });
    }

    const ours = median(plugin);
    const baseline = median(bare);
    console.log(`# trials ${TRIALS}; plugin ms ${plugin.join(' ')}; bare ffplay ms ${bare.join(' ')}; load average after: ${load()}`);
    console.log(`figure display_first_pixel_ms ${ours.toFixed(0)} ms`);
    console.log(`figure display_first_pixel_min_ms ${Math.min(...plugin).toFixed(0)} ms`);
    console.log(`figure display_first_pixel_max_ms ${Math.max(...plugin).toFixed(0)} ms`);
    console.log(`figure bare_ffplay_first_pixel_ms ${baseline.toFixed(0)} ms`);
    console.log(`figure bare_ffplay_first_pixel_min_ms ${Math.min(...bare).toFixed(0)} ms`);
    console.log(`figure bare_ffplay_first_pixel_max_ms ${Math.max(...bare).toFixed(0)} ms`);
    console.log(`figure display_vs_bare_ffplay_ratio ${(ours / baseline).toFixed(2)} x`);
    console.log(`figure display_load_average_1min ${loadavg()[0]!.toFixed(2)} load`);
  } finally {
    for (const loop of loops) loop.kill();
    await sampler.stop();
    await t.dispose();
    await xvfb.stop();
  }
}

await main();
