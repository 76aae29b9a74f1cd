/**
 * npm run bench -- send-fanout [--size 256] [--rounds 1]
 *
 * One video (`--size` MiB of lossless x264 noise, made with ffmpeg at run time
 * and cached in .nvid-bench/media) sent from one node to 1, 2, 4 and 8 local
 * receivers, all real nvid processes (a coordinator and nine headless nodes on
 * 127.0.0.1). A send to several peers seals the file once (one multi-recipient
 * envelope) and streams the same sealed bytes to each, four at a time; the
 * baseline, in the same run, is eight one-recipient sends one after another.
 *
 * Figures:
 * - `fanout_sender_cpu_N_vs_1_ratio`: the sender daemon's CPU seconds
 *   (/proc/PID/stat utime + stime, before and after) for the N-recipient send
 *   over the 1-recipient send (goal for N = 8: at most 1.5);
 * - `fanout_8_vs_8_sequential_ratio`: wall time of one 8-recipient send over
 *   eight one-recipient sends (goal: at most 0.6);
 * - wall seconds and sender CPU seconds of each send.
 * With `--rounds` above 1 each figure is the median over the rounds.
 * Every receiver decrypts and writes its own copy on the same machine, so the
 * wall times are bounded by the receivers' work as much as by the sender's.
 *
 * Prints `figure NAME VALUE UNIT` lines; no absolute targets are asserted.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from '../harness/cluster.js';
import { REPO_ROOT } from '../harness/nvid.js';
import { cpuSeconds, median } from './lib/proc-stats.js';

const WORK = join(REPO_ROOT, '.nvid-bench', 'send-fanout');
const CACHE = join(REPO_ROOT, '.nvid-bench', 'media');
const MIB = 1024 ** 2;
const FANOUTS = [1, 2, 4, 8] as const;

const figure = (name: string, value: number, unit: string) => process.stdout.write(`figure ${name} ${Number(value.toPrecision(4))} ${unit}\n`);
const note = (text: string) => process.stderr.write(`${text}\n`);

/**
 * A valid video of about `mib` MiB: lossless x264 of random noise does not
 * compress (about 1.4 MiB a 1280x720 frame), so size follows the frame count. Cached.
 */
function noiseVideo(mib: number): string {
  mkdirSync(CACHE, { recursive: true });
  const file = join(CACHE, `fanout-noise-${mib}MiB.mkv`);
  if (existsSync(file)) return file;
  const frames = Math.max(1, Math.round((mib * 360) / 512));
  note(`making a ${mib} MiB noise video with ffmpeg (${frames} frames, cached in .nvid-bench/media)`);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'nullsrc=s=1280x720:r=25,geq=lum=random(1)*255:cb=128:cr=128', '-frames:v', String(frames), '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', `${file}.tmp.mkv`]);
  execFileSync('mv', [`${file}.tmp.mkv`, file]);
  return file;
}

type Node = Awaited<ReturnType<Cluster['startNode']>>;

interface Measured {
  readonly seconds: number;
  readonly senderCpu: number;
}

async function main(): Promise<void> {
  const arg = (name: string) => Number(process.argv[process.argv.indexOf(name) + 1]);
  const sizeMiB = (process.argv.includes('--size') && arg('--size')) || 256;
  const rounds = (process.argv.includes('--rounds') && arg('--rounds')) || 1;
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const media = noiseVideo(sizeMiB);
  const size = statSync(media).size;
  note(`file: ${(size / MIB).toFixed(1)} MiB video; 1 warm-up send, then ${rounds} round(s) of 8 one-recipient sends and sends to ${FANOUTS.join(', ')} recipients`);

  const cluster = new Cluster(join(WORK, 'cluster'));
  const plugins = ['crypto', { use: 'media', options: { maxFileBytes: 4 * size + 64 * MIB } }, { use: 'display', options: { output: 'headless' } }];
  const config = { log: { level: 'warn' } };
  try {
    await cluster.startCoordinator();
    const sender = await cluster.startNode({ name: 'sender', plugins, config });
    const receivers: Node[] = [];
    for (let i = 1; i <= 8; i += 1) receivers.push(await cluster.startNode({ name: `r${i}`, plugins, config }));
    const names = receivers.map((_, i) => `r${i + 1}`);
    await cluster.waitForPeers('sender', names, 60_000);
    const senderPid = sender.child.pid!;
    const emptyLibraries = () => {
      for (const node of receivers) {
        rmSync(join(node.stateDir, 'library'), { recursive: true, force: true });
        mkdirSync(join(node.stateDir, 'library'), { recursive: true });
      }
    };
    const send = async (to: string[]): Promise<Measured> => {
      const cpu = cpuSeconds(senderPid);
      const start = process.hrtime.bigint();
      const result = await sender.cli(['send', media, '--to', to.join(',')], { timeoutMs: 1_800_000 });
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (result.code !== 0) throw new Error(`nvid send to ${to.join(',')} failed (${result.code ?? result.signal}): ${result.stderr}`);
      return { seconds, senderCpu: cpuSeconds(senderPid) - cpu };
    };

    // A fresh daemon's first send also pays for compiling its code.
    await send(['r1']);
    emptyLibraries();

    const sequential: Measured[] = [];
    const fanout = new Map<number, Measured[]>(FANOUTS.map((n) => [n, []]));
    for (let round = 1; round <= rounds; round += 1) {
      let seqSeconds = 0;
      let seqCpu = 0;
      for (const name of names) {
        const one = await send([name]);
        seqSeconds += one.seconds;
        seqCpu += one.senderCpu;
      }
      sequential.push({ seconds: seqSeconds, senderCpu: seqCpu });
      emptyLibraries();
      for (const n of FANOUTS) {
        const m = await send(names.slice(0, n));
        fanout.get(n)!.push(m);
        emptyLibraries();
        note(`round ${round}: ${n} recipient(s): ${m.seconds.toFixed(2)} s wall, sender ${m.senderCpu.toFixed(2)} CPU-s`);
      }
      note(`round ${round}: eight one-recipient sends: ${seqSeconds.toFixed(2)} s wall, sender ${seqCpu.toFixed(2)} CPU-s`);
    }

    const one = fanout.get(1)!;
    for (const n of FANOUTS) {
      const runs = fanout.get(n)!;
      figure(`fanout_${n}_wall_s`, median(runs.map((r) => r.seconds)), 's');
      figure(`fanout_${n}_sender_cpu_s`, median(runs.map((r) => r.senderCpu)), 's');
      if (n > 1) figure(`fanout_sender_cpu_${n}_vs_1_ratio`, median(runs.map((r, i) => r.senderCpu / one[i]!.senderCpu)), 'x');
    }
    figure('sequential_8_wall_s', median(sequential.map((r) => r.seconds)), 's');
    figure('sequential_8_sender_cpu_s', median(sequential.map((r) => r.senderCpu)), 's');
    figure('fanout_8_vs_8_sequential_ratio', median(fanout.get(8)!.map((r, i) => r.seconds / sequential[i]!.seconds)), 'x');
  } finally {
    await cluster.stop();
    rmSync(join(WORK, 'cluster'), { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`send-fanout failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
