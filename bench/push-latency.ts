/**
 * npm run bench -- push-latency [--trials 5]
 *
 * What a person feels: from the moment `nvid send` is started on the sender
 * (its daemon already running) to the first pixel of that file on the
 * receiver's screen (a real Xvfb, watched by one continuous x11grab sampler),
 * for a 4000x3000 JPEG of a few MB and a 2 s 960x720 video. Against what they
 * would do without nvid, in the same run on the same screen: `scp` of the
 * same file to a private sshd on loopback, then bare `ffplay` of it, with the
 * display plugin's own player flags. Trials alternate nvid and scp+ffplay and
 * a new colour each time, so every first pixel is unambiguous.
 *
 * Where nvid's time goes comes from the nodes' own history (the `sent` entry's
 * stages, the `received` entry's stages, the `displayed` entry's first frame)
 * on one clock: CLI start (spawn to the daemon starting the send), sender
 * check, seal, connect, transfer (header and body), receiver check, store,
 * player start (stored to the player's first frame) and the screen (that frame
 * to the sampler seeing it).
 *
 * Prints `figure NAME VALUE UNIT` lines (medians; ranges on stderr).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster } from '../harness/cluster.js';
import { REPO_ROOT } from '../harness/nvid.js';
import { ScreenSampler } from '../harness/screen.js';
import { startXvfb } from '../harness/xvfb.js';
import { findOnPath } from '../core/media-tools/binaries.js';
import { median } from './lib/proc-stats.js';
import { startSshd, type Sshd } from './lib/sshd.js';

const run = promisify(execFile);
const WORK = join(REPO_ROOT, '.nvid-bench', 'push-latency');
const CACHE = join(REPO_ROOT, '.nvid-bench', 'media');
const SCREEN = { width: 640, height: 480 };
const COLOURS = ['red', 'lime', 'blue', 'yellow', 'magenta', 'cyan'];

const figure = (name: string, value: number, unit: string) => process.stdout.write(`figure ${name} ${Number(value.toPrecision(4))} ${unit}\n`);
const note = (text: string) => process.stderr.write(`${text}\n`);

type Kind = 'photo' | 'video';

/** A file of `kind` mostly of `colour`, with enough noise that it weighs what a camera's file does. Cached. */
async function mediaFile(kind: Kind, colour: string): Promise<string> {
  mkdirSync(CACHE, { recursive: true });
  const file = join(CACHE, `push-${kind}-${colour}.${kind === 'photo' ? 'jpg' : 'mp4'}`);
  if (existsSync(file)) return file;
  const tmp = `${file}.tmp.${kind === 'photo' ? 'jpg' : 'mp4'}`;
  // The noise is in a band across the top quarter, so three quarters of the screen show the colour itself.
  const [size, band, extra] = kind === 'photo' ? ['4000x3000', '4000x750', ''] : ['960x720', '960x180', ':r=25:d=2'];
  const graph = `color=c=${colour}:s=${size}${extra}[bg];color=c=${colour}:s=${band}${extra},noise=alls=60:allf=${kind === 'photo' ? 'u' : 't+u'}[band];[bg][band]overlay=0:0`;
  const args =
    kind === 'photo'
      ? ['-f', 'lavfi', '-i', graph, '-frames:v', '1', '-q:v', '1']
      : ['-f', 'lavfi', '-i', graph, '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '16', '-pix_fmt', 'yuv420p', '-movflags', '+faststart'];
  await run('ffmpeg', ['-v', 'error', '-y', ...args, tmp]);
  renameSync(tmp, file);
  return file;
}

interface HistoryEntry {
  readonly kind: string;
  readonly time: string;
  readonly transferId?: string;
  readonly at?: number;
  readonly stages?: Record<string, number>;
}

/** One nvid push, split into its parts (milliseconds). */
interface PushParts {
  readonly total: number;
  readonly cliStart: number;
  readonly senderCheck: number;
  readonly seal: number;
  readonly connect: number;
  readonly transfer: number;
  readonly receiverCheck: number;
  readonly store: number;
  readonly playerStart: number;
  readonly screen: number;
}

const PART_NAMES: ReadonlyArray<[keyof PushParts, string]> = [
  ['cliStart', 'cli_start'],
  ['senderCheck', 'sender_check'],
  ['seal', 'seal'],
  ['connect', 'connect'],
  ['transfer', 'transfer'],
  ['receiverCheck', 'receiver_check'],
  ['store', 'store'],
  ['playerStart', 'player_start'],
  ['screen', 'screen'],
];

const range = (values: readonly number[]) => `${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)}`;

async function main(): Promise<void> {
  const arg = (name: string, fallback: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback);
  const trials = arg('--trials', 5);
  const ffplay = findOnPath('ffplay');
  if (!ffplay) throw new Error('ffplay is needed: apt-get install ffmpeg');
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const files: Record<Kind, string[]> = { photo: [], video: [] };
  for (const kind of ['photo', 'video'] as const) for (const colour of COLOURS) files[kind].push(await mediaFile(kind, colour));
  note(`photo ${(statSync(files.photo[0]!).size / 1e6).toFixed(1)} MB, video ${(statSync(files.video[0]!).size / 1e6).toFixed(1)} MB; load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const xvfb = await startXvfb(`${SCREEN.width}x${SCREEN.height}x24`);
  const sampler = new ScreenSampler(xvfb.display, xvfb.width, xvfb.height, 50);
  const sshd: Sshd = await startSshd(join(WORK, 'sshd'));
  const cluster = new Cluster(WORK);
  try {
    await sampler.ready();
    await cluster.startCoordinator();
    const config = { log: { level: 'warn' } };
    const screen = await cluster.startNode({ name: 'screen', plugins: ['crypto', 'media', { use: 'display', options: { display: xvfb.display, policy: 'replace', imageSeconds: 0, audio: false } }], config });
    const sender = await cluster.startNode({ name: 'sender', config });
    await cluster.waitForPeers('sender', ['screen']);
    const scpDir = join(WORK, 'scp-received');
    mkdirSync(scpDir, { recursive: true });

    /** Milliseconds from `since` until the sampler sees `colour`. */
    const firstPixel = async (colour: string, since: number) => {
      const hit = await sampler.waitFor((s) => s.t >= since - sampler.startedAt && s.name === colour, 20_000);
      return { ms: hit.t - (since - sampler.startedAt), at: sampler.startedAt + hit.t };
    };
    const historyOf = async (node: typeof sender) => (await node.control<HistoryEntry[]>('history', { limit: 50 })) ?? [];

    const pushNvid = async (file: string, colour: string): Promise<PushParts> => {
      const since = Date.now();
      const cli = sender.cli(['send', file, '--to', 'screen', '--json'], { timeoutMs: 60_000 });
      const seen = await firstPixel(colour, since);
      const done = await cli;
      if (done.code !== 0) throw new Error(`nvid send failed: ${done.stderr}`);
      const sent = JSON.parse(done.stdout.trim().split('\n').pop()!) as { transferId: string; stages: { check: number; seal: number; deliver: number } };
      const [sentEntry] = (await historyOf(sender)).filter((e) => e.kind === 'sent' && e.transferId === sent.transferId);
      const screenHistory = await historyOf(screen);
      const received = screenHistory.find((e) => e.kind === 'received' && e.transferId === sent.transferId);
      const displayed = screenHistory.find((e) => e.kind === 'displayed' && e.transferId === sent.transferId);
      if (!sentEntry || !received?.stages || displayed?.at === undefined) throw new Error('the histories lack the entries of this push');
      const { check, seal, deliver } = sent.stages;
      const r = received.stages;
      const sendStart = Date.parse(sentEntry.time) - (check + seal + deliver);
      const receiverBegan = Date.parse(received.time) - (r.open! + r.body! + r.check! + r.store!);
      return {
        total: seen.ms,
        cliStart: sendStart - since,
        senderCheck: check,
        seal,
        connect: receiverBegan - (sendStart + check + seal),
        transfer: r.open! + r.body!,
        receiverCheck: r.check!,
        store: r.store!,
        playerStart: displayed.at - Date.parse(received.time),
        screen: seen.at - displayed.at,
      };
    };

    const scpThenFfplay = async (file: string, colour: string) => {
      const since = Date.now();
      const dest = join(scpDir, `${colour}-${Date.now()}${file.slice(file.lastIndexOf('.'))}`);
      await run('scp', ['-q', '-c', 'aes128-gcm@openssh.com', ...sshd.clientOptions, file, `${sshd.user}@127.0.0.1:${dest}`]);
      const copied = Date.now() - since;
      // The display plugin's own player flags, so only the path to it differs.
      const player = spawn(ffplay, ['-hide_banner', '-loglevel', 'error', '-noborder', '-fs', '-sn', '-x', String(SCREEN.width), '-y', String(SCREEN.height), '-left', '0', '-top', '0', '-an', dest], { stdio: 'ignore', env: { ...process.env, DISPLAY: xvfb.display } });
      try {
        const seen = await firstPixel(colour, since);
        return { total: seen.ms, scp: copied, ffplay: seen.ms - copied };
      } finally {
        const gone = new Promise((resolve) => player.once('exit', resolve));
        player.kill('SIGKILL');
        await gone;
        rmSync(dest, { force: true });
      }
    };

    // Warm-up, not counted: both daemons' first send compiles their code; the first scp warms sshd.
    await pushNvid(files.photo[0]!, COLOURS[0]!);
    await scpThenFfplay(files.photo[1]!, COLOURS[1]!);

    for (const kind of ['photo', 'video'] as const) {
      const nvid: PushParts[] = [];
      const baseline: Array<{ total: number; scp: number; ffplay: number }> = [];
      let shown = 1;
      for (let i = 0; i < trials; i++) {
        // A colour other than the one on screen now, every time.
        let k = (shown + 1) % COLOURS.length;
        nvid.push(await pushNvid(files[kind][k]!, COLOURS[k]!));
        shown = k;
        await new Promise((r) => setTimeout(r, 300));
        k = (shown + 1) % COLOURS.length;
        baseline.push(await scpThenFfplay(files[kind][k]!, COLOURS[k]!));
        // ffplay is gone: the screen shows nvid's last picture again.
        await new Promise((r) => setTimeout(r, 300));
        note(`${kind} ${i + 1}: nvid ${nvid.at(-1)!.total.toFixed(0)} ms (${PART_NAMES.map(([p, n]) => `${n} ${nvid.at(-1)![p].toFixed(0)}`).join(', ')}); scp+ffplay ${baseline.at(-1)!.total.toFixed(0)} ms (scp ${baseline.at(-1)!.scp.toFixed(0)}, ffplay ${baseline.at(-1)!.ffplay.toFixed(0)})`);
      }
      const ours = median(nvid.map((p) => p.total));
      const theirs = median(baseline.map((b) => b.total));
      note(`${kind}: nvid ${range(nvid.map((p) => p.total))} ms, scp+ffplay ${range(baseline.map((b) => b.total))} ms over ${trials} trials`);
      figure(`push_${kind}_ms`, ours, 'ms');
      figure(`scp_ffplay_${kind}_ms`, theirs, 'ms');
      figure(`push_${kind}_vs_scp_ffplay_ratio`, ours / theirs, 'x');
      for (const [part, name] of PART_NAMES) figure(`push_${kind}_${name}_ms`, median(nvid.map((p) => p[part])), 'ms');
      figure(`scp_${kind}_ms`, median(baseline.map((b) => b.scp)), 'ms');
      figure(`ffplay_${kind}_first_pixel_ms`, median(baseline.map((b) => b.ffplay)), 'ms');
    }
    note(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    await cluster.stop();
    await sshd.stop();
    await sampler.stop();
    await xvfb.stop();
    rmSync(WORK, { recursive: true, force: true });
  }
}

await main();
