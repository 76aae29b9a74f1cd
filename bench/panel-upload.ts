/**
 * npm run bench -- panel-upload [--size 1024] [--rounds 3]
 *
 * A video of `--size` MiB (lossless x264 noise made with ffmpeg's lavfi at run
 * time, cached in .nvid-bench/media) goes from one node to another on
 * 127.0.0.1 two ways in the same run: through the panel (the browser's path:
 * announce the upload, `POST /api/sends`, then stream the bytes with `PUT`;
 * the send starts with the first byte that lands; done when the send reports
 * the receiver's receipt), and with `nvid send` of the same
 * file. The two alternate for `--rounds` rounds on this shared, noisy machine;
 * figures are medians.
 *
 * `panel_vs_cli_send_ratio` is the panel's throughput over the CLI's (goal:
 * at least 0.9; the panel also takes the upload in and writes it to disk,
 * alongside the send). Both stream the envelope to the receiver as it is
 * sealed: a send while the upload arrives always does, and the nodes'
 * `resumableFromBytes` is set above the file's size so that `nvid send` does
 * too, instead of sealing the whole file to the outbox first. What a default
 * `nvid send` of the same file costs (sealed to the outbox, then offered in
 * pieces, so a broken link resumes) is measured in the same rounds from a
 * third node left at the defaults: `panel_vs_cli_resumable_send_ratio`.
 *
 * The figures above come from every process free to run on any core, as
 * they always have. A sender and the screen it sends to are two machines,
 * though, and here the CPU the panel costs the sending node is taken from the
 * receiver, which sets the pace of any send. So where this machine has two
 * cores or more (and util-linux's `taskset`), each round first sends both
 * ways with the sending side (the sending node, and this bench with the curl
 * and `nvid send` it starts, as the person's browser and terminal) on core 0
 * and the receiving node on core 1: `panel_vs_cli_send_ratio_own_cores`.
 * That is harsh on both sides too: each gets one core for its main thread,
 * its thread pool and its collector.
 *
 * The bench hears that a panel send ended over the panel's live channel, as
 * the page does.
 *
 * `panel_peak_rss_mib` is the sending node's peak RSS (VmHWM, reset through
 * /proc/PID/clear_refs before each upload) over the upload and send: an
 * upload must stream, never sit in memory.
 *
 * Prints `figure NAME VALUE UNIT` lines; no absolute targets are asserted.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from '../harness/cluster.js';
import { REPO_ROOT } from '../harness/nvid.js';
import { TextSocket } from '../test/helpers/panel-http.js';
import { canPin, pin } from './lib/cpu-pinning.js';
import { cpuSeconds, median } from './lib/proc-stats.js';

const WORK = join(REPO_ROOT, '.nvid-bench', 'panel-upload');
const CACHE = join(REPO_ROOT, '.nvid-bench', 'media');
const MIB = 1024 ** 2;
const run = promisify(execFile);

const figure = (name: string, value: number, unit: string) => process.stdout.write(`figure ${name} ${Number(value.toPrecision(4))} ${unit}\n`);
const note = (text: string) => process.stderr.write(`${text}\n`);

/** A valid video of about `mib` MiB: lossless x264 noise does not compress (about 1.45 MiB a 720p frame). */
function noiseVideo(mib: number): string {
  mkdirSync(CACHE, { recursive: true });
  const file = join(CACHE, `panel-noise-${mib}MiB.mkv`);
  if (existsSync(file)) return file;
  note(`making a ${mib} MiB noise video with ffmpeg (cached in .nvid-bench/media)`);
  const frames = Math.max(1, Math.round(mib / 1.45));
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'nullsrc=s=1280x720:r=25,geq=lum=random(1)*255:cb=128:cr=128', '-frames:v', String(frames), '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', `${file}.tmp.mkv`]);
  execFileSync('mv', [`${file}.tmp.mkv`, file]);
  return file;
}

function statusKiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

/**
 * Writes every dirty page out before a timed send: each send leaves 1-3 GiB
 * for the kernel to write back (received files, the upload, the outbox), and
 * on two cores that writeback would slow whichever send came next.
 */
function settle(): void {
  execFileSync('sync');
}

/** The panel as a page sees it: a logged-in session on one node, with its live channel open. */
class PanelClient {
  constructor(
    readonly base: string,
    readonly cookie: string,
    readonly csrf: string,
    /** Where the page hears how its sends go. */
    readonly events: TextSocket,
  ) {}

  static async login(loginUrl: string): Promise<PanelClient> {
    const base = new URL(loginUrl).origin;
    const login = await fetch(loginUrl, { redirect: 'manual' });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const session = (await (await fetch(`${base}/api/session`, { headers: { cookie } })).json()) as { csrfToken: string };
    return new PanelClient(base, cookie, session.csrfToken, await TextSocket.open(base, '/api/events', { cookie }));
  }

  close(): void {
    this.events.close();
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { cookie: this.cookie, 'x-csrf-token': this.csrf, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  /**
   * Streams `file` raw into an announced upload, with curl: a browser's upload
   * is native code too, and a Node client here would take a core's worth of
   * CPU from the nodes being measured on this 2-core machine.
   */
  async fill(uploadId: string, file: string): Promise<void> {
    const { stdout } = await run('curl', ['-sS', '-T', file, '-X', 'PUT', '-w', '\n%{http_code}', '-H', `cookie: ${this.cookie}`, '-H', `x-csrf-token: ${this.csrf}`, '-H', 'content-type: application/octet-stream', `${this.base}/api/uploads/${uploadId}`]);
    const status = stdout.trim().split('\n').pop();
    if (status !== '200') throw new Error(`upload: ${stdout}`);
  }

  /**
   * The page's path: announce the upload, ask for the send (it starts with the
   * first byte that lands), stream the bytes, wait for the receipt, told over
   * the live channel as the page is (asking the node instead took it 50
   * requests a second, on the sending side's core).
   */
  async send(file: string, peerId: string): Promise<void> {
    const { messages } = this.events;
    const upload = await this.json<{ id: string }>('POST', '/api/uploads/announce', { name: 'bench.mkv', size: statSync(file).size, kind: 'video' });
    const { sends } = await this.json<{ sends: Array<{ id: string }> }>('POST', '/api/sends', { upload: upload.id, to: [peerId] });
    const id = sends[0]!.id;
    await this.fill(upload.id, file);
    for (let seen = 0; ; ) {
      for (; seen < messages.length; seen++) {
        const message = messages[seen] as { type: string; send?: { id: string; state: string; error?: unknown } };
        const send = message.type === 'send' ? message.send : undefined;
        if (send?.id !== id) continue;
        if (send.state === 'sent') return;
        if (send.state !== 'waiting' && send.state !== 'sending') throw new Error(`panel send ended ${send.state}: ${JSON.stringify(send.error)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

async function main(): Promise<void> {
  const arg = (name: string) => Number(process.argv[process.argv.indexOf(name) + 1]);
  const sizeMiB = process.argv.includes('--size') ? arg('--size') : 1024;
  const rounds = process.argv.includes('--rounds') ? arg('--rounds') : 3;
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const media = noiseVideo(sizeMiB);
  const size = statSync(media).size;
  const cluster = new Cluster(WORK);
  let panel: PanelClient | undefined;
  try {
    await cluster.startCoordinator();
    // The media plugin's default size cap is lifted so --size can go past it.
    const plugins = ['crypto', { use: 'media', options: { maxFileBytes: size + MIB } }, { use: 'display', options: { output: 'headless' } }];
    // Both ways stream the envelope as it is sealed (see the header); the default-sender does not.
    const config = { log: { level: 'warn' }, resumableFromBytes: size + MIB };
    const sender = await cluster.startNode({ name: 'sender', plugins: [...plugins, { use: 'panel' }], config });
    const receiver = await cluster.startNode({ name: 'receiver', plugins, config });
    const defaultSender = await cluster.startNode({ name: 'default-sender', plugins, config: { log: { level: 'warn' } } });
    await cluster.waitForPeers('sender', ['receiver', 'default-sender']);
    await cluster.waitForPeers('default-sender', ['receiver', 'sender']);
    const receiverId = (await sender.control<Array<{ id: string; name: string }>>('peers')).find((p) => p.name === 'receiver')!.id;
    const page = await PanelClient.login((await sender.control<{ loginUrl: string }>('panel')).loginUrl);
    panel = page;
    const pid = sender.child.pid!;
    const receiverPid = receiver.child.pid!;
    /** CPU seconds of the sending and receiving node over `run`. */
    const cpuOf = async (run: () => Promise<unknown>) => {
      const before = [cpuSeconds(pid), cpuSeconds(receiverPid)];
      await run();
      return { sender: cpuSeconds(pid) - before[0]!, receiver: cpuSeconds(receiverPid) - before[1]! };
    };
    const cpu = { panelSender: [] as number[], panelReceiver: [] as number[], cliSender: [] as number[], cliReceiver: [] as number[] };

    const panelSeconds: number[] = [];
    const cliSeconds: number[] = [];
    const resumableSeconds: number[] = [];
    const ratios: number[] = [];
    const resumableRatios: number[] = [];
    const ownPanelSeconds: number[] = [];
    const ownCliSeconds: number[] = [];
    const ownRatios: number[] = [];
    const peaks: number[] = [];
    const pinning = canPin();
    if (!pinning) note('this machine cannot give the two sides a core each (one core, or no taskset): no _own_cores figures');
    /** The sending side on core 0 and the receiver on core 1 ('own'), or every process anywhere ('shared'). */
    const layout = (cores: 'own' | 'shared') => {
      if (!pinning) return;
      for (const pid of [sender.child.pid!, defaultSender.child.pid!, process.pid]) pin(pid, cores === 'own' ? [0] : 'all');
      pin(receiver.child.pid!, cores === 'own' ? [1] : 'all');
    };
    // One untimed send each way first: a fresh daemon's first send also pays for compiling its code.
    await page.send(media, receiverId);
    await sender.cli(['send', media, '--to', 'receiver'], { timeoutMs: 600_000 });
    await defaultSender.cli(['send', media, '--to', 'receiver'], { timeoutMs: 600_000 });
    /** Seconds `node` takes for `nvid send` of the media to the receiver. */
    const cliSend = async (node: typeof sender) => {
      settle();
      const start = process.hrtime.bigint();
      const { code, stderr } = await node.cli(['send', media, '--to', 'receiver'], { timeoutMs: 600_000 });
      if (code !== 0) throw new Error(`nvid send failed: ${stderr}`);
      return Number(process.hrtime.bigint() - start) / 1e9;
    };
    /** Seconds the panel takes to upload and send the media to the receiver; the sending node's peak RSS is kept. */
    const panelSend = async () => {
      settle();
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      let polledPeak = 0;
      const poll = setInterval(() => (polledPeak = Math.max(polledPeak, statusKiB(pid, 'VmRSS'))), 50);
      const start = process.hrtime.bigint();
      await page.send(media, receiverId);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      clearInterval(poll);
      peaks.push(Math.max(polledPeak, statusKiB(pid, 'VmHWM')) / 1024);
      return seconds;
    };
    for (let round = 0; round < rounds; round++) {
      if (pinning) {
        layout('own');
        const ownPanel = await panelSend();
        const ownCli = await cliSend(sender);
        ownPanelSeconds.push(ownPanel);
        ownCliSeconds.push(ownCli);
        ownRatios.push(ownCli / ownPanel);
        note(`round ${round + 1}, a core each: panel ${ownPanel.toFixed(2)} s, nvid send ${ownCli.toFixed(2)} s, peak RSS ${peaks.at(-1)!.toFixed(0)} MiB`);
        layout('shared');
      }
      let viaPanel = 0;
      const panelCpu = await cpuOf(async () => (viaPanel = await panelSend()));
      let viaCli = 0;
      const cliCpu = await cpuOf(async () => (viaCli = await cliSend(sender)));
      const viaResumable = await cliSend(defaultSender);
      cpu.panelSender.push(panelCpu.sender);
      cpu.panelReceiver.push(panelCpu.receiver);
      cpu.cliSender.push(cliCpu.sender);
      cpu.cliReceiver.push(cliCpu.receiver);
      panelSeconds.push(viaPanel);
      cliSeconds.push(viaCli);
      ratios.push(viaCli / viaPanel);
      resumableSeconds.push(viaResumable);
      resumableRatios.push(viaResumable / viaPanel);
      note(`round ${round + 1}: panel ${viaPanel.toFixed(2)} s, nvid send ${viaCli.toFixed(2)} s (resumable, the default: ${viaResumable.toFixed(2)} s), peak RSS ${peaks.at(-1)!.toFixed(0)} MiB; sender CPU ${panelCpu.sender.toFixed(2)} s (panel) vs ${cliCpu.sender.toFixed(2)} s, receiver ${panelCpu.receiver.toFixed(2)} vs ${cliCpu.receiver.toFixed(2)} s`);
    }
    const mbps = (seconds: number) => size / seconds / 1e6;
    figure('panel_size_mib', size / MIB, 'MiB');
    figure('panel_upload_send_mb_per_s', mbps(median(panelSeconds)), 'MB/s');
    figure('cli_send_mb_per_s', mbps(median(cliSeconds)), 'MB/s');
    figure('panel_vs_cli_send_ratio', median(ratios), 'x');
    figure('cli_resumable_send_mb_per_s', mbps(median(resumableSeconds)), 'MB/s');
    figure('panel_vs_cli_resumable_send_ratio', median(resumableRatios), 'x');
    if (pinning) {
      figure('panel_own_core_mb_per_s', mbps(median(ownPanelSeconds)), 'MB/s');
      figure('cli_own_core_mb_per_s', mbps(median(ownCliSeconds)), 'MB/s');
      figure('panel_vs_cli_send_ratio_own_cores', median(ownRatios), 'x');
    }
    figure('panel_peak_rss_mib', Math.max(...peaks), 'MiB');
    figure('panel_sender_cpu_s', median(cpu.panelSender), 's');
    figure('cli_sender_cpu_s', median(cpu.cliSender), 's');
    figure('panel_receiver_cpu_s', median(cpu.panelReceiver), 's');
    figure('cli_receiver_cpu_s', median(cpu.cliReceiver), 's');
  } finally {
    panel?.close();
    await cluster.stop();
    rmSync(WORK, { recursive: true, force: true });
  }
}

await main();
