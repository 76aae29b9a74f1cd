/**
 * npm run bench -- send-throughput [--gib 1] [--rounds 5] [--warmup 1]
 *
 * A node-to-node encrypted send of a 1 GiB video through real nvid processes
 * (coordinator + two nodes on 127.0.0.1, received file written to disk),
 * measured in the same run against two baselines that also write the file:
 * a plain TCP file-to-file copy between two Node processes, and scp over
 * loopback to a private sshd (aes128-gcm). Then a 2 GiB send for the peak RSS
 * of sender and receiver (reset before the send through /proc/PID/clear_refs).
 * The nvid send runs twice: with the default bulk channel (the envelope raw on
 * a token-bound TCP connection) and between two nodes set to
 * `bulkChannel: 'tls'` (the envelope inside TLS too), figures suffixed `_tls_body`.
 * A file this large (at least `resumableFromBytes`, 64 MiB by default) goes as a
 * resumable shared transfer: sealed to the outbox first, its pieces checked
 * and kept on the receiver's disk (plugins/transport/README.md). A third pair
 * of nodes set to `resumableFromBytes` above the file size streams it
 * directly instead, as every send did before: figures suffixed `_direct`.
 * The machine is shared and noisy (the plain TCP copy alone has ranged from
 * 263 to 824 MB/s in one afternoon), so the four copies run interleaved for
 * `--rounds` rounds; figures are medians, and each ratio is the median of the
 * ratios within a round. `--warmup` untimed rounds come first: nodes are
 * long-running daemons, and a fresh one's first send also pays for compiling
 * its code (about 15% slower than its later sends, measured).
 *
 * Each copy is also charged the machine's busy CPU seconds over it (all
 * processes, kernel included: `*_machine_cpu_s_per_gib`). With both ends on
 * one 2-core machine, half of that is the least wall time a copy could take,
 * which tells a copy that does more work apart from one that waits. And
 * each side is set against its scp counterpart: nvid's sending node against
 * the scp client (scp and its ssh), the receiving node against the sshd that
 * served the connection (`sender_cpu_vs_ssh_ratio`,
 * `receiver_cpu_vs_sshd_ratio`, goal at most 0.6 each).
 *
 * Prints `figure NAME VALUE UNIT` lines; no absolute targets are asserted.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from '../harness/cluster.js';
import { REPO_ROOT } from '../harness/nvid.js';
import { startSshd, type Sshd } from './lib/sshd.js';
import { plainTcpCopy } from './lib/tcp-copy.js';
import { cpuSeconds, cpuSecondsWithChildren, cpuSecondsWithChildrenOf, median } from './lib/proc-stats.js';

const WORK = join(REPO_ROOT, '.nvid-bench', 'send-throughput');
const CACHE = join(REPO_ROOT, '.nvid-bench', 'media');
const GIB = 1024 ** 3;
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

const figure = (name: string, value: number, unit: string) => process.stdout.write(`figure ${name} ${Number(value.toPrecision(4))} ${unit}\n`);
const note = (text: string) => process.stderr.write(`${text}\n`);

/**
 * A valid video of about `bytes`: lossless x264 of random noise does not
 * compress, so size grows with the frame count. Cached between runs.
 */
function noiseVideo(bytes: number): string {
  mkdirSync(CACHE, { recursive: true });
  const file = join(CACHE, `noise-${Math.round(bytes / 1024 ** 2)}MiB.mkv`);
  if (existsSync(file)) return file;
  const one = join(CACHE, 'noise-unit.mkv');
  if (!existsSync(one)) {
    note('making a 512 MiB noise video with ffmpeg (cached in .nvid-bench/media)');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'nullsrc=s=1280x720:r=25,geq=lum=random(1)*255:cb=128:cr=128', '-frames:v', '360', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', `${one}.tmp.mkv`]);
    execFileSync('mv', [`${one}.tmp.mkv`, one]);
  }
  // Concatenating copies (no re-encode) keeps it a valid, probe-able video of the wanted size.
  const copies = Math.max(1, Math.round(bytes / statSync(one).size));
  const list = join(CACHE, `list-${copies}.txt`);
  writeFileSync(list, Array.from({ length: copies }, () => `file '${one}'`).join('\n'));
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', `${file}.tmp.mkv`]);
  execFileSync('mv', [`${file}.tmp.mkv`, file]);
  return file;
}

/**
 * CPU seconds the whole machine has been busy (all cores, kernel and interrupts
 * included, other guests' steal excluded). Over one copy it counts every
 * process the copy needed: ssh and sshd, or the CLI, both nodes and their ffprobe runs.
 */
function machineBusySeconds(): number {
  const [user, nice, system, , , irq, softirq] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq!) / TICKS;
}

function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) / 1024;
}

/** Peak RSS is kept since process start; writing 5 to clear_refs resets it (Linux >= 4.0). */
function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** Wall time of `work`, and the machine's busy CPU seconds over it. */
async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; machineCpu: number; value: T }> {
  const busy = machineBusySeconds();
  const start = process.hrtime.bigint();
  const value = await work();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, machineCpu: machineBusySeconds() - busy, value };
}

/**
 * One scp, and the CPU seconds of each side: the client (scp and the ssh it
 * runs, counted by a shell that waits for them) and the server (the
 * connection's sshd, counted in the listening sshd once it reaped it).
 */
async function scpCopy(sshd: Sshd, file: string, dest: string): Promise<{ client: number; server: number }> {
  const serverBefore = cpuSecondsWithChildren(sshd.pid);
  const clientStat = await new Promise<string>((resolve, reject) => {
    const args = ['-q', '-c', 'aes128-gcm@openssh.com', ...sshd.clientOptions, file, `${sshd.user}@127.0.0.1:${dest}`];
    const child = spawn('sh', ['-c', 'scp "$@" && cat /proc/$$/stat', 'sh', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`scp exited ${code}: ${stderr}`))));
  });
  // The connection's sshd may end a moment after the client: wait until the listener has reaped it.
  let server = cpuSecondsWithChildren(sshd.pid) - serverBefore;
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 20));
    const now = cpuSecondsWithChildren(sshd.pid) - serverBefore;
    if (now === server && now > 0) break;
    server = now;
  }
  return { client: cpuSecondsWithChildrenOf(clientStat), server };
}

type Node = Awaited<ReturnType<Cluster['startNode']>>;

/** One timed `nvid send` of `file` from `sender` to the node named `to`, with the CPU each side spent on it. */
async function measuredSend(sender: Node, receiver: Node, file: string, to = 'receiver'): Promise<{ seconds: number; machineCpu: number; cpu: { sender: number; receiver: number } }> {
  const pids = { sender: sender.child.pid!, receiver: receiver.child.pid! };
  const cpuBefore = { sender: cpuSeconds(pids.sender), receiver: cpuSeconds(pids.receiver) };
  const send = await timed(() => sender.cli(['send', file, '--to', to], { timeoutMs: 600_000 }));
  if (send.value.code !== 0) throw new Error(`nvid send to ${to} failed (${send.value.code ?? send.value.signal}): ${send.value.stderr}`);
  const cpu = { sender: cpuSeconds(pids.sender) - cpuBefore.sender, receiver: cpuSeconds(pids.receiver) - cpuBefore.receiver };
  return { seconds: send.seconds, machineCpu: send.machineCpu, cpu };
}

interface Copy {
  readonly seconds: number;
  readonly machineCpu: number;
}

interface Round {
  readonly tcp: Copy;
  readonly scp: Copy & { readonly cpu: { readonly client: number; readonly server: number } };
  readonly bulk: Awaited<ReturnType<typeof measuredSend>>;
  readonly tls: Awaited<ReturnType<typeof measuredSend>>;
  readonly direct: Awaited<ReturnType<typeof measuredSend>>;
}

async function main(): Promise<void> {
  const arg = (name: string) => Number(process.argv[process.argv.indexOf(name) + 1]);
  const gib = arg('--gib') || 1;
  // Rounds interleave the four copies, so a slow spell of this shared machine hits all of them; medians are reported.
  const rounds = arg('--rounds') || 5;
  const warmup = process.argv.includes('--warmup') ? arg('--warmup') : 1;
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const media = noiseVideo(gib * GIB);
  const big = noiseVideo(2 * GIB);
  const size = statSync(media).size;
  note(`file: ${(size / GIB).toFixed(2)} GiB video; 2 GiB file: ${(statSync(big).size / GIB).toFixed(2)} GiB; ${warmup} warm-up and ${rounds} measured rounds`);

  // scp's baseline needs a private sshd on loopback; nvid a real coordinator and real nodes.
  const sshd = await startSshd(join(WORK, 'sshd'));
  const cluster = new Cluster(join(WORK, 'cluster'));
  const plugins = ['crypto', { use: 'media', options: { maxFileBytes: 3 * GIB } }, { use: 'display', options: { output: 'headless' } }];
  const config = { log: { level: 'warn' } };
  try {
    await cluster.startCoordinator();
    const sender = await cluster.startNode({ name: 'sender', plugins, config });
    const receiver = await cluster.startNode({ name: 'receiver', plugins, config });
    // The same send with the body inside TLS, between two nodes that keep it there.
    const tlsBody = { transport: { bulkChannel: 'tls' }, plugins, config };
    const senderTls = await cluster.startNode({ name: 'sender-tls', ...tlsBody });
    const receiverTls = await cluster.startNode({ name: 'receiver-tls', ...tlsBody });
    // The same send streamed directly, not resumable (the file is below their resumableFromBytes).
    const directConfig = { plugins, config: { ...config, resumableFromBytes: Number.MAX_SAFE_INTEGER } };
    const senderDirect = await cluster.startNode({ name: 'sender-direct', ...directConfig });
    const receiverDirect = await cluster.startNode({ name: 'receiver-direct', ...directConfig });
    const everyone = ['sender', 'receiver', 'sender-tls', 'receiver-tls', 'sender-direct', 'receiver-direct'];
    for (const name of ['sender', 'sender-tls', 'sender-direct']) await cluster.waitForPeers(name, everyone.filter((n) => n !== name));
    const emptyLibrary = (node: Node) => {
      rmSync(join(node.stateDir, 'library'), { recursive: true, force: true });
      mkdirSync(join(node.stateDir, 'library'), { recursive: true });
    };

    const results: Round[] = [];
    const mbps = (seconds: number) => size / 1e6 / seconds;
    for (let round = 1 - warmup; round <= rounds; round += 1) {
      // Baseline 1: plain TCP, file to file, two Node processes. Baseline 2: scp.
      const tcp = await timed(() => plainTcpCopy(media, join(WORK, 'tcp-copy.out')));
      rmSync(join(WORK, 'tcp-copy.out'), { force: true });
      const scpRun = await timed(() => scpCopy(sshd, media, join(WORK, 'scp.out')));
      const scp = { ...scpRun, cpu: scpRun.value };
      rmSync(join(WORK, 'scp.out'), { force: true });
      const bulk = await measuredSend(sender, receiver, media);
      emptyLibrary(receiver);
      const tls = await measuredSend(senderTls, receiverTls, media, 'receiver-tls');
      emptyLibrary(receiverTls);
      const direct = await measuredSend(senderDirect, receiverDirect, media, 'receiver-direct');
      emptyLibrary(receiverDirect);
      if (round >= 1) results.push({ tcp, scp, bulk, tls, direct });
      note(
        `${round >= 1 ? `round ${round}` : 'warm-up round (not counted)'}: plain TCP ${mbps(tcp.seconds).toFixed(0)} MB/s, scp ${mbps(scp.seconds).toFixed(0)} MB/s, nvid send ${mbps(bulk.seconds).toFixed(0)} MB/s (body inside TLS: ${mbps(tls.seconds).toFixed(0)} MB/s; streamed directly, not resumable: ${mbps(direct.seconds).toFixed(0)} MB/s)`,
      );
    }
    for (const node of [receiverTls, senderTls, receiverDirect, senderDirect]) await node.stop();

    const pids = { sender: sender.child.pid!, receiver: receiver.child.pid! };
    resetPeakRss(pids.sender);
    resetPeakRss(pids.receiver);
    const two = await sender.cli(['send', big, '--to', 'receiver'], { timeoutMs: 600_000 });
    if (two.code !== 0) throw new Error(`nvid send (2 GiB) failed: ${two.stderr}`);
    const rss = { sender: peakRssMiB(pids.sender), receiver: peakRssMiB(pids.receiver) };

    const gibs = size / GIB;
    figure('plain_tcp_mb_per_s', mbps(median(results.map((r) => r.tcp.seconds))), 'MB/s');
    figure('scp_mb_per_s', mbps(median(results.map((r) => r.scp.seconds))), 'MB/s');
    // What each copy costs the machine as a whole: on two cores shared by both ends, half of it is the least wall time the copy could take.
    figure('plain_tcp_machine_cpu_s_per_gib', median(results.map((r) => r.tcp.machineCpu)) / gibs, 's');
    figure('scp_machine_cpu_s_per_gib', median(results.map((r) => r.scp.machineCpu)) / gibs, 's');
    for (const [suffix, runOf] of [['', (r: Round) => r.bulk], ['_tls_body', (r: Round) => r.tls], ['_direct', (r: Round) => r.direct]] as const) {
      figure(`nvid_send_mb_per_s${suffix}`, mbps(median(results.map((r) => runOf(r).seconds))), 'MB/s');
      // Ratios within each round (same spell of the machine), then their median.
      figure(`send_vs_scp_ratio${suffix}`, median(results.map((r) => r.scp.seconds / runOf(r).seconds)), 'x');
      figure(`send_vs_tcp_ratio${suffix}`, median(results.map((r) => r.tcp.seconds / runOf(r).seconds)), 'x');
      figure(`nvid_machine_cpu_s_per_gib${suffix}`, median(results.map((r) => runOf(r).machineCpu)) / gibs, 's');
      figure(`sender_cpu_s_per_gib${suffix}`, median(results.map((r) => runOf(r).cpu.sender)) / gibs, 's');
      figure(`receiver_cpu_s_per_gib${suffix}`, median(results.map((r) => runOf(r).cpu.receiver)) / gibs, 's');
    }
    // Each side against its scp counterpart: on a screen computer CPU seconds, not loopback speed, are the budget.
    figure('ssh_client_cpu_s_per_gib', median(results.map((r) => r.scp.cpu.client)) / gibs, 's');
    figure('sshd_cpu_s_per_gib', median(results.map((r) => r.scp.cpu.server)) / gibs, 's');
    figure('sender_cpu_vs_ssh_ratio', median(results.map((r) => r.bulk.cpu.sender / r.scp.cpu.client)), 'x');
    figure('receiver_cpu_vs_sshd_ratio', median(results.map((r) => r.bulk.cpu.receiver / r.scp.cpu.server)), 'x');
    figure('sender_peak_rss_2gib', rss.sender, 'MiB');
    figure('receiver_peak_rss_2gib', rss.receiver, 'MiB');
  } finally {
    await cluster.stop();
    await sshd.stop();
    rmSync(join(WORK, 'cluster'), { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`send-throughput failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
