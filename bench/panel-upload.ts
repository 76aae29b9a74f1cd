/**
 * npm run bench -- panel-upload [--size 1024] [--rounds 3]
 *
 * A video of `--size` MiB (lossless x264 noise made with ffmpeg's lavfi at run
 * time, cached in .nvid-bench/media) goes from one node to another on
 * 127.0.0.1 two ways in the same run: through the panel (the browser's path:
 * a streamed multipart upload to the panel, then `POST /api/sends`, done when
 * the send reports the receiver's receipt), and with `nvid send` of the same
 * file. The two alternate for `--rounds` rounds on this shared, noisy machine;
 * figures are medians.
 *
 * `panel_vs_cli_send_ratio` is the panel's throughput over the CLI's (goal:
 * at least 0.9; the panel writes the file once more, the upload, before it
 * sends). `panel_peak_rss_mib` is the sending node's peak RSS (VmHWM, reset
 * through /proc/PID/clear_refs before each upload) over the upload and send:
 * an upload must stream, never sit in memory.
 *
 * Prints `figure NAME VALUE UNIT` lines; no absolute targets are asserted.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Cluster } from '../harness/cluster.js';
import { REPO_ROOT } from '../harness/nvid.js';

const WORK = join(REPO_ROOT, '.nvid-bench', 'panel-upload');
const CACHE = join(REPO_ROOT, '.nvid-bench', 'media');
const MIB = 1024 ** 2;

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

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function statusKiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

/** The panel as a script sees it: a logged-in session on one node. */
class PanelClient {
  constructor(
    readonly base: string,
    readonly cookie: string,
    readonly csrf: string,
  ) {}

  static async login(loginUrl: string): Promise<PanelClient> {
    const base = new URL(loginUrl).origin;
    const login = await fetch(loginUrl, { redirect: 'manual' });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const session = (await (await fetch(`${base}/api/session`, { headers: { cookie } })).json()) as { csrfToken: string };
    return new PanelClient(base, cookie, session.csrfToken);
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

  /** Streams `file` as the page does (multipart, one part "file"), never reading it whole. */
  upload(file: string): Promise<{ id: string; size: number }> {
    const boundary = `----nvidbench${Date.now()}`;
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.mkv"\r\nContent-Type: video/x-matroska\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const length = head.length + statSync(file).size + tail.length;
    return new Promise((resolve, reject) => {
      const req = request(`${this.base}/api/uploads`, {
        method: 'POST',
        headers: { cookie: this.cookie, 'x-csrf-token': this.csrf, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': length },
      }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => (res.statusCode === 201 ? resolve(JSON.parse(text) as { id: string; size: number }) : reject(new Error(`upload: ${res.statusCode} ${text}`))));
      });
      req.on('error', reject);
      req.write(head);
      const body = createReadStream(file, { highWaterMark: MIB });
      body.on('error', reject);
      body.on('end', () => req.end(tail));
      body.pipe(req, { end: false });
    });
  }

  /** Upload, send to `peerId`, wait for the receipt. */
  async send(file: string, peerId: string): Promise<void> {
    const upload = await this.upload(file);
    const { sends } = await this.json<{ sends: Array<{ id: string }> }>('POST', '/api/sends', { upload: upload.id, to: [peerId] });
    const id = sends[0]!.id;
    for (;;) {
      const send = (await this.json<Array<{ id: string; state: string; error?: unknown }>>('GET', '/api/sends')).find((s) => s.id === id);
      if (send?.state === 'sent') return;
      if (send && send.state !== 'waiting' && send.state !== 'sending') throw new Error(`panel send ended ${send.state}: ${JSON.stringify(send.error)}`);
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
  try {
    await cluster.startCoordinator();
    // The media plugin's default size cap is lifted so --size can go past it.
    const plugins = ['crypto', { use: 'media', options: { maxFileBytes: size + MIB } }, { use: 'display', options: { output: 'headless' } }];
    const config = { log: { level: 'warn' } };
    const sender = await cluster.startNode({ name: 'sender', plugins: [...plugins, { use: 'panel' }], config });
    await cluster.startNode({ name: 'receiver', plugins, config });
    await cluster.waitForPeers('sender', ['receiver']);
    const receiverId = (await sender.control<Array<{ id: string; name: string }>>('peers')).find((p) => p.name === 'receiver')!.id;
    const panel = await PanelClient.login((await sender.control<{ loginUrl: string }>('panel')).loginUrl);
    const pid = sender.child.pid!;

    const panelSeconds: number[] = [];
    const cliSeconds: number[] = [];
    const ratios: number[] = [];
    const peaks: number[] = [];
    // One untimed send each way first: a fresh daemon's first send also pays for compiling its code.
    await panel.send(media, receiverId);
    await sender.cli(['send', media, '--to', 'receiver'], { timeoutMs: 600_000 });
    for (let round = 0; round < rounds; round++) {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      let polledPeak = 0;
      const poll = setInterval(() => (polledPeak = Math.max(polledPeak, statusKiB(pid, 'VmRSS'))), 50);
      let start = process.hrtime.bigint();
      await panel.send(media, receiverId);
      const viaPanel = Number(process.hrtime.bigint() - start) / 1e9;
      clearInterval(poll);
      peaks.push(Math.max(polledPeak, statusKiB(pid, 'VmHWM')) / 1024);
      start = process.hrtime.bigint();
      const cli = await sender.cli(['send', media, '--to', 'receiver'], { timeoutMs: 600_000 });
      const viaCli = Number(process.hrtime.bigint() - start) / 1e9;
      if (cli.code !== 0) throw new Error(`nvid send failed: ${cli.stderr}`);
      panelSeconds.push(viaPanel);
      cliSeconds.push(viaCli);
      ratios.push(viaCli / viaPanel);
      note(`round ${round + 1}: panel ${viaPanel.toFixed(2)} s, nvid send ${viaCli.toFixed(2)} s, peak RSS ${peaks.at(-1)!.toFixed(0)} MiB`);
    }
    const mbps = (seconds: number) => size / seconds / 1e6;
    figure('panel_size_mib', size / MIB, 'MiB');
    figure('panel_upload_send_mb_per_s', mbps(median(panelSeconds)), 'MB/s');
    figure('cli_send_mb_per_s', mbps(median(cliSeconds)), 'MB/s');
    figure('panel_vs_cli_send_ratio', median(ratios), 'x');
    figure('panel_peak_rss_mib', Math.max(...peaks), 'MiB');
  } finally {
    await cluster.stop();
    rmSync(WORK, { recursive: true, force: true });
  }
}

await main();
