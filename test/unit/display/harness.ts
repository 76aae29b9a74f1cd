/**
 * Runs the display plugin through its hooks on a real Xvfb, the way the core
 * will: options checked against the plugin's schema, beforeStart, start,
 * display requests, stop. Shared by the display tests.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { DisplayAccepted } from '../../../core/hooks.js';
import type { MediaInfo } from '../../../core/types.js';
import DisplayPlugin from '../../../plugins/display/index.js';
import MediaPlugin from '../../../plugins/media/index.js';
import { findOnPath } from '../../../core/media-tools/binaries.js';
import { DEFAULT_MEDIA_POLICY } from '../../../plugins/media/options.js';
import { validateMediaFile } from '../../../plugins/media/validate-file.js';
import { construct, createTestHost, fakeMeta, type TestHost } from '../media/test-host.js';
import assert from 'node:assert/strict';
import type { Sample } from '../../helpers/screen.js';
import { killLeftoverXvfb, startXvfb, type Xvfb } from '../../helpers/xvfb.js';

/** A started display plugin on a test host. */
export interface DisplayRig {
  readonly t: TestHost;
  readonly xvfb: Xvfb;
  /** Probes `path` and hands it to the display hook. */
  show(path: string): Promise<DisplayAccepted>;
  stop(): Promise<void>;
}

/** What ffprobe says about a test file (the media plugin's own check). */
export function mediaOf(path: string): Promise<MediaInfo> {
  return validateMediaFile(findOnPath('ffprobe')!, path, DEFAULT_MEDIA_POLICY, 10_000);
}

/** Rigs started and not yet stopped, so a suite can stop whatever a failed test left running. */
const liveRigs = new Set<DisplayRig>();

/**
 * What every display suite shares: one Xvfb for the suite (stale test servers
 * killed first), every rig stopped after each test, and no ffplay child may
 * outlive that. Read the server as `suite.xvfb` inside tests.
 */
export function useDisplaySuite(size = '320x240x24'): { readonly xvfb: Xvfb } {
  const suite = {} as { xvfb: Xvfb };
  before(async () => {
    killLeftoverXvfb();
    suite.xvfb = await startXvfb(size);
  });
  after(async () => {
    await suite.xvfb?.stop();
  });
  afterEach(async () => {
    for (const rig of [...liveRigs]) await rig.stop();
    assert.deepEqual(ffplayChildren(), [], 'an ffplay process outlived stop');
  });
  return suite;
}

/**
 * Builds a host, applies the display plugin with `options` (audio off and the
 * Xvfb's display unless given) and runs beforeStart and start.
 * `beforeStartup` runs first, e.g. to fill the library folder.
 */
export async function startRig(xvfb: Xvfb, options: Record<string, unknown>, beforeStartup?: (t: TestHost) => Promise<void>, mediaOptions: Record<string, unknown> = {}): Promise<DisplayRig> {
  const t = await createTestHost('display');
  try {
    // The real media plugin answers the host's validateMedia, as on a node (the loop policy reads the library with it).
    construct(MediaPlugin, mediaOptions).apply(t.host);
    construct(DisplayPlugin, { display: xvfb.display, audio: false, ...options }).apply(t.host);
    await beforeStartup?.(t);
    await t.hooks.beforeStart.promise({ role: 'node' });
    await t.hooks.start.promise({ role: 'node' });
  } catch (err) {
    await t.hooks.stop.promise({ role: 'node' }).catch(() => undefined);
    await t.dispose();
    throw err;
  }
  let stopped = false;
  const rig: DisplayRig = {
    t,
    xvfb,
    async show(path) {
      const media = await mediaOf(path);
      const accepted = await t.hooks.display.promise({ path, media, meta: fakeMeta(basename(path), media) });
      if (!accepted) throw new Error('no plugin took the display request');
      return accepted;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      liveRigs.delete(rig);
      await t.hooks.stop.promise({ role: 'node' });
      await t.dispose();
    },
  };
  liveRigs.add(rig);
  return rig;
}

/** Copies a file into the rig's library folder, as the core keeps received files. */
export async function keep(t: TestHost, path: string, name = basename(path)): Promise<string> {
  const kept = join(t.host.libraryDir, name);
  await copyFile(path, kept);
  return kept;
}

/** PIDs of ffplay processes that are children of this test process. */
export function ffplayChildren(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-x', 'ffplay'], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    // pgrep exits 1 when nothing matches.
    return [];
  }
}

/** The names of the colour runs a sampler saw, without transitional frames and short blips. */
export function colourSequence(runs: readonly [string, number][], minFrames = 2): string[] {
  const out: string[] = [];
  for (const [name, count] of runs) {
    if (count < minFrames || name === '?' || name === 'mixed') continue;
    if (out.at(-1) !== name) out.push(name);
  }
  return out;
}

/**
 * Asserts the samples from the first item frame to the last item frame hold no
 * black frame, and that they were taken at least 10 times a second.
 */
export function assertNoGap(samples: readonly Sample[], items: readonly string[]): void {
  const first = samples.findIndex((s) => items.includes(s.name));
  const last = samples.findLastIndex((s) => items.includes(s.name));
  assert.ok(first >= 0 && last > first, 'the items never showed');
  const window = samples.slice(first, last + 1);
  const seconds = (window.at(-1)!.t - window[0]!.t) / 1000;
  assert.ok(window.length / seconds >= 10, `only ${(window.length / seconds).toFixed(1)} samples per second`);
  const black = window.filter((s) => s.black);
  assert.equal(black.length, 0, `${black.length} black frames between items, at ${black.map((s) => s.t).join(', ')} ms`);
}

/** Where the window titled `title` sits on screen (its left edge), as xwininfo reports it. */
export async function windowLeft(display: string, title: string): Promise<number> {
  const { stdout } = await promisify(execFile)('xwininfo', ['-display', display, '-name', title]);
  return Number(/Absolute upper-left X:\s+(-?\d+)/.exec(stdout)?.[1]);
}
