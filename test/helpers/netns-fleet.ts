/**
 * A LAN of Linux network namespaces with real nvid processes on it, for
 * measuring what a send costs on a real (shaped) network rather than on
 * loopback. Needs root, iproute2's `ip` and `tc`.
 *
 *                          switch namespace: bridge br0
 *            ┌──────────────┬──────────┴───┬──────────────┐
 *          veth           veth           veth           veth      (each node link shaped with tbf,
 *     coordinator        sender           r1     ...     rN        both directions)
 *      10.77.0.1       10.77.0.10      10.77.1.1       10.77.1.N
 *
 * Every node is one namespace of its own with only its loopback and one veth
 * end (`veth0`); the other end sits in the switch namespace, attached to the
 * bridge. A node's upload is shaped by a tbf on its own end, its download by
 * a tbf on the switch's end, so `rate` holds in both directions and a sender's
 * uplink is a real bottleneck. The addresses exist only inside these
 * namespaces: nothing reaches the machine's own interfaces.
 *
 * The coordinator and nodes are real `nvid coordinator` / `nvid node`
 * processes started through `ip netns exec` (which execs, so the child is nvid
 * itself: its PID is the daemon's), listening on and advertising their
 * namespace address. Receivers have no `acceptFrom`, so they take media from
 * any peer the coordinator admitted (the sender), and carry the tags given.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HEADLESS_NODE_PLUGINS } from '../../harness/cluster.js';
import { NVID_BIN, NvidProcess, tempDir, waitFor } from '../../harness/nvid.js';
import { hasCommand } from './netns.js';

const run = promisify(execFile);

/** Why a fleet cannot be built here, or undefined when it can. */
export function fleetUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root, and making network namespaces needs root';
  if (!hasCommand('ip', '-V')) return 'no iproute2 (`ip`) on this machine';
  if (!hasCommand('tc', '-V')) return 'no `tc` (iproute2) on this machine';
  return undefined;
}

/** `100mbit`, `20mbit`, `1gbit`, `500kbit` in bits per second. */
export function parseRate(rate: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(k|m|g)?bit$/i.exec(rate.trim());
  if (!m) throw new Error(`a rate is like 100mbit, 20mbit or 1gbit, not ${rate}`);
  const unit = { k: 1e3, m: 1e6, g: 1e9 }[(m[2] ?? '').toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
  return Number(m[1]) * unit;
}

/**
 * The tbf parameters for `rate`. tbf needs a bucket of at least one packet
 * plus what accrues in a timer tick, and `latency 50ms` bounds the queue. On
 * veth, tbf splits a GSO packet bigger than its bucket into segments, which
 * doubles the CPU a byte costs the machine without changing the rate: a
 * plain 100 MB copy at 100 Mbit/s took 2.4 CPU-s with a 16 KiB bucket and
 * 1.15 CPU-s with 128 KiB (0.67 unshaped), both at 95.7% of the rate. A
 * bench that runs 17 nodes on two cores is bound by that CPU, so the bucket
 * is 128 KiB (10 ms at 100 Mbit/s) or 2 ms of the rate, whichever is larger.
 */
export function tbfArgs(rate: string): string[] {
  const bytesPerSecond = parseRate(rate) / 8;
  // At least 128 KiB: a smaller bucket than a GSO packet (64 KiB) makes tbf cut every packet up, which
  // costs twice the CPU per byte (2.4 against 1.2 CPU-s per 100 MB copied, measured) for the same rate.
  const burst = Math.max(128 * 1024, Math.ceil(bytesPerSecond * 0.002));
  return ['tbf', 'rate', rate, 'burst', String(burst), 'latency', '50ms'];
}

/**
 * A valid H.264 MP4 of about `mb` MB (1e6 bytes) that does not compress:
 * lavfi testsrc2 with strong temporal noise, at a bitrate the noise fills.
 * The size per second is measured on a one-second probe first, then the
 * duration set to reach the target (corrected up to three times while over 5% off). `seed` makes different content of the same
 * kind. Kept at `file` (made only when missing).
 */
export async function noiseVideo(file: string, mb: number, seed = 1): Promise<string> {
  if (existsSync(file)) return file;
  const encode = (seconds: number, out: string) =>
    run('ffmpeg', [
      '-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=s=1280x720:r=25:d=${seconds}`,
      '-vf', `noise=alls=100:allf=t+u:all_seed=${seed}`,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '80M', '-maxrate', '80M', '-bufsize', '80M', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', out,
    ], { maxBuffer: 16 * 1024 * 1024 });
  const probe = `${file}.probe.mp4`;
  await encode(1, probe);
  const perSecond = statSync(probe).size;
  rmSync(probe, { force: true });
  const frames = (bytesPerSecond: number) => Math.max(1, Math.round(((mb * 1e6) / bytesPerSecond) * 25)) / 25;
  const tmp = `${file}.tmp.mp4`;
  let seconds = frames(perSecond);
  await encode(seconds, tmp);
  // The first second weighs more than the average one (rate control settling): corrected.
  for (let tries = 0; tries < 3; tries++) {
    const actual = statSync(tmp).size;
    if (Math.abs(actual / (mb * 1e6) - 1) <= 0.05) break;
    seconds = frames(actual / seconds);
    await encode(seconds, tmp);
  }
  renameSync(tmp, file);
  return file;
}

export interface FleetOptions {
  /** How many receivers (named r1 ... rN). */
  readonly receivers: number;
  /** Each node link's rate in both directions, tc syntax (default 100mbit). */
  readonly rate?: string;
  /** Tags every receiver carries (default ['screens']). */
  readonly tags?: readonly string[];
  /** More tags for receiver i (1-based), e.g. to name subsets. */
  readonly tagsFor?: (index: number) => readonly string[];
  /** Extra transport options of every node. */
  readonly transport?: Record<string, unknown>;
  /** Options of every node's media plugin (e.g. `maxFileBytes`). */
  readonly media?: Record<string, unknown>;
  /** Extra top-level config of every node (default: `{ log: { level: 'warn' } }`). */
  readonly config?: Record<string, unknown>;
  /** Where the state folders go (default: a new temporary folder, removed by destroy()). */
  readonly dir?: string;
  /** Part of the namespace names, so a reader of `ip netns list` sees whose they are (default 'fleet'). */
  readonly label?: string;
}

/** One namespace of the fleet and the nvid process in it. */
export interface FleetMember {
  readonly name: string;
  readonly role: 'coordinator' | 'node';
  /** The namespace. */
  readonly ns: string;
  readonly address: string;
  /** The node's veth end, inside `ns`. */
  readonly dev: string;
  /** The other end, in the switch namespace, on the bridge. */
  readonly switchDev: string;
  readonly dir: string;
  process?: NvidProcess;
}

export interface LinkCounters {
  /** Bytes the node put on its link (its veth end's tx_bytes). */
  readonly tx: number;
  /** Bytes the node took from its link. */
  readonly rx: number;
}

export interface FleetSendResult {
  /** Exit code of `nvid send` (null if killed). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Wall seconds from spawning the CLI to its exit. */
  readonly seconds: number;
  /** Date.now() when the CLI was spawned. */
  readonly startedAt: number;
  /** Every `--json` line, parsed. */
  readonly lines: ReadonlyArray<Record<string, unknown>>;
  /** The last line: `{"event":"sent"...}`, `{"event":"group-sent"...}` or `{"error":...}`. */
  readonly result: Record<string, unknown> | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

/** A `nvid send` in progress (see `startSend`). */
export interface RunningSend {
  readonly child: ChildProcess;
  readonly startedAt: number;
  readonly done: Promise<FleetSendResult>;
}

/** A `received` history entry. */
export interface ReceivedEntry {
  readonly time: string;
  readonly kind: 'received';
  readonly transferId: string;
  readonly sha256: string;
  readonly size: number;
  readonly path: string;
  readonly [field: string]: unknown;
}

const COORDINATOR_ADDRESS = '10.77.0.1';
const SENDER_ADDRESS = '10.77.0.10';
const receiverAddress = (i: number) => `10.77.${1 + Math.floor((i - 1) / 250)}.${1 + ((i - 1) % 250)}`;

function ipSync(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A LAN of namespaces, a coordinator, a sender and receivers r1...rN; see the file's comment. */
export class NetnsFleet {
  readonly prefix: string;
  readonly switchNs: string;
  readonly dir: string;
  readonly members = new Map<string, FleetMember>();
  rate = '100mbit';
  private readonly ownsDir: boolean;
  private readonly namespaces: string[] = [];
  private readonly children = new Set<ChildProcess>();
  private options!: FleetOptions;
  private coordinatorPort = 0;

  static unavailable = fleetUnavailable;
  private static made = 0;

  constructor(options: { label?: string; dir?: string } = {}) {
    // Short enough for /run/netns and unique on the machine: label, PID and a counter.
    this.prefix = `nvfl-${options.label ?? 'fleet'}-${process.pid}-${(NetnsFleet.made++).toString(36)}`;
    this.switchNs = `${this.prefix}-sw`;
    this.ownsDir = !options.dir;
    this.dir = options.dir ?? tempDir('nvid-fleet-');
    mkdirSync(this.dir, { recursive: true });
  }

  get coordinator(): FleetMember {
    return this.member('coordinator');
  }

  get sender(): FleetMember {
    return this.member('sender');
  }

  get receivers(): FleetMember[] {
    return [...this.members.values()].filter((m) => /^r\d+$/.test(m.name));
  }

  member(name: string): FleetMember {
    const m = this.members.get(name);
    if (!m) throw new Error(`no member ${name} in this fleet`);
    return m;
  }

  /**
   * Builds the namespaces, the bridge and the shaped links, then starts the
   * coordinator, the sender and `receivers` receivers, and waits until the
   * sender lists every receiver as a peer.
   */
  async start(options: FleetOptions): Promise<this> {
    const reason = fleetUnavailable();
    if (reason) throw new Error(`cannot build a namespace fleet: ${reason}`);
    this.options = options;
    this.rate = options.rate ?? '100mbit';
    this.addNamespace(this.switchNs);
    ipSync(['-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
    ipSync(['-n', this.switchNs, 'link', 'set', 'br0', 'up']);
    this.join('coordinator', 'coordinator', COORDINATOR_ADDRESS, false);
    this.join('sender', 'node', SENDER_ADDRESS, true);
    for (let i = 1; i <= options.receivers; i++) this.join(`r${i}`, 'node', receiverAddress(i), true);

    await this.startProcess('coordinator');
    await this.startProcess('sender');
    // Receivers start a few at a time: each one's start costs a second of CPU.
    const names = this.receivers.map((r) => r.name);
    for (let i = 0; i < names.length; i += 4) await Promise.all(names.slice(i, i + 4).map((n) => this.startProcess(n)));
    await this.waitForPeers('sender', names, 30_000 + 2_000 * names.length);
    return this;
  }

  private addNamespace(ns: string): void {
    ipSync(['netns', 'add', ns]);
    this.namespaces.push(ns);
    ipSync(['-n', ns, 'link', 'set', 'lo', 'up']);
  }

  /** A namespace for `name`, its veth to the bridge, its address, and (when `shaped`) tbf on both ends. */
  private join(name: string, role: FleetMember['role'], address: string, shaped: boolean): FleetMember {
    const ns = `${this.prefix}-${name}`;
    this.addNamespace(ns);
    const switchDev = `p${this.members.size}`;
    // Made straight into the two namespaces: neither end ever appears on the machine.
    ipSync(['link', 'add', 'veth0', 'netns', ns, 'type', 'veth', 'peer', 'name', switchDev, 'netns', this.switchNs]);
    ipSync(['-n', this.switchNs, 'link', 'set', switchDev, 'master', 'br0']);
    ipSync(['-n', this.switchNs, 'link', 'set', switchDev, 'up']);
    ipSync(['-n', ns, 'addr', 'add', `${address}/16`, 'dev', 'veth0']);
    ipSync(['-n', ns, 'link', 'set', 'veth0', 'up']);
    if (shaped) {
      execFileSync('tc', ['-n', ns, 'qdisc', 'replace', 'dev', 'veth0', 'root', ...tbfArgs(this.rate)], { stdio: ['ignore', 'ignore', 'pipe'] });
      execFileSync('tc', ['-n', this.switchNs, 'qdisc', 'replace', 'dev', switchDev, 'root', ...tbfArgs(this.rate)], { stdio: ['ignore', 'ignore', 'pipe'] });
    }
    const dir = join(this.dir, name);
    mkdirSync(dir, { recursive: true });
    const member: FleetMember = { name, role, ns, address, dev: 'veth0', switchDev, dir };
    this.members.set(name, member);
    return member;
  }

  /** The config `name`'s process runs with. */
  private configOf(member: FleetMember): Record<string, unknown> {
    if (member.role === 'coordinator') {
      return { log: { level: 'warn' }, plugins: [{ use: 'transport', options: { listen: { host: member.address, port: this.coordinatorPort } } }] };
    }
    const o = this.options;
    const index = member.name.startsWith('r') ? Number(member.name.slice(1)) : 0;
    const tags = index ? [...new Set([...(o.tags ?? ['screens']), ...(o.tagsFor?.(index) ?? [])])] : [];
    const transport = {
      use: 'transport',
      options: { listen: { host: member.address, port: 0 }, advertiseHost: member.address, coordinator: { host: COORDINATOR_ADDRESS, port: this.coordinatorPort }, ...o.transport },
    };
    const plugins = HEADLESS_NODE_PLUGINS.map((p) => (p === 'media' && o.media ? { use: 'media', options: o.media } : p));
    return { name: member.name, ...(tags.length ? { tags } : {}), plugins: [transport, ...plugins], ...(o.config ?? { log: { level: 'warn' } }) };
  }

  /** Starts (or starts again, with the same state folder and identity) the process of `name`. */
  async startProcess(name: string): Promise<NvidProcess> {
    const member = this.member(name);
    if (member.process && member.process.child.exitCode === null && member.process.child.signalCode === null) throw new Error(`${name} is running already`);
    const proc = await NvidProcess.start(member.role, member.dir, this.configOf(member), { wrap: this.wrap(name), timeoutMs: 30_000 });
    this.children.add(proc.child);
    member.process = proc;
    if (member.role === 'coordinator') {
      const status = await proc.control<{ transport: { port: number } }>('status');
      this.coordinatorPort = status.transport.port;
    }
    return proc;
  }

  /** The running process of `name`. */
  proc(name: string): NvidProcess {
    const p = this.member(name).process;
    if (!p) throw new Error(`${name} has no process`);
    return p;
  }

  /** PID of `name`'s nvid daemon (for /proc/PID/stat). */
  pid(name: string): number {
    return this.proc(name).child.pid!;
  }

  /** kill -9 of `name`'s daemon; its state folder stays for `restart`. */
  async kill(name: string): Promise<void> {
    await this.member(name).process?.kill();
  }

  /** Starts `name` again on the same state folder (same identity, library, history); kills it first if it runs. */
  async restart(name: string): Promise<NvidProcess> {
    await this.kill(name);
    return this.startProcess(name);
  }

  /** The command prefix that runs a program inside `name`'s namespace (or a namespace name). */
  wrap(name: string): string[] {
    return ['ip', 'netns', 'exec', this.members.get(name)?.ns ?? name];
  }

  /** Runs a command inside `name`'s namespace to completion; rejects when it fails. */
  async exec(name: string, command: string, args: string[], timeoutMs = 60_000): Promise<{ stdout: string; stderr: string }> {
    const [ipCmd, ...prefix] = this.wrap(name);
    return run(ipCmd!, [...prefix, command, ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  }

  /** Spawns a command inside `name`'s namespace; destroy() kills it if it still runs. */
  spawnIn(name: string, command: string, args: string[], options: { stdio?: 'pipe' | 'ignore' } = {}): ChildProcess {
    const [ipCmd, ...prefix] = this.wrap(name);
    const child = spawn(ipCmd!, [...prefix, command, ...args], { stdio: ['ignore', options.stdio ?? 'pipe', options.stdio ?? 'pipe'] });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /**
   * The byte counters of `name`'s veth end, as the kernel counts them
   * (`/sys/class/net/veth0/statistics/{tx,rx}_bytes` in its namespace). While
   * the member's daemon runs they are read from /proc/PID/net/dev of that
   * daemon (the same counters, seen from its namespace) without spawning
   * anything, so they can be polled every few milliseconds.
   */
  async counters(name: string): Promise<LinkCounters> {
    const m = this.member(name);
    const pid = m.process?.child.pid;
    if (pid && m.process!.child.exitCode === null && m.process!.child.signalCode === null) {
      try {
        const line = readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').find((l) => l.trim().startsWith(`${m.dev}:`));
        if (line) {
          // Interface: rx bytes packets errs drop fifo frame compressed multicast, then tx bytes ...
          const fields = line.split(':')[1]!.trim().split(/\s+/).map(Number);
          return { rx: fields[0]!, tx: fields[8]! };
        }
      } catch {
        // the process just went: ask the namespace instead
      }
    }
    const { stdout } = await this.exec(name, 'cat', [`/sys/class/net/${m.dev}/statistics/tx_bytes`, `/sys/class/net/${m.dev}/statistics/rx_bytes`], 10_000);
    const [tx, rx] = stdout.trim().split('\n').map(Number);
    return { tx: tx!, rx: rx! };
  }

  async txBytes(name: string): Promise<number> {
    return (await this.counters(name)).tx;
  }

  async rxBytes(name: string): Promise<number> {
    return (await this.counters(name)).rx;
  }

  /** Takes `name`'s link down (its veth end): nothing passes either way until `restoreLink`. */
  async cutLink(name: string): Promise<void> {
    const m = this.member(name);
    await run('ip', ['-n', m.ns, 'link', 'set', m.dev, 'down']);
  }

  /** Brings `name`'s link up again (address and shaping stay; the route comes back with the link). */
  async restoreLink(name: string): Promise<void> {
    const m = this.member(name);
    await run('ip', ['-n', m.ns, 'link', 'set', m.dev, 'up']);
    // The bridge port learns again at once; wait until the switch's end reports a carrier.
    await waitFor(async () => (await run('ip', ['-n', this.switchNs, '-o', 'link', 'show', m.switchDev])).stdout.includes('LOWER_UP'), `${name}'s link to come back`, 10_000, 50);
  }

  /** Waits until `name` lists at least `expected` as peers. */
  async waitForPeers(name: string, expected: readonly string[], timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () => {
        const peers = new Set((await this.proc(name).control<Array<{ name: string }>>('peers')).map((p) => p.name));
        return expected.every((e) => peers.has(e));
      },
      `${name} to list peers ${expected.join(',')}`,
      timeoutMs,
      200,
    );
  }

  /**
   * Starts `nvid send FILE --to TO --json` from `from` (the sender by default)
   * inside its namespace; `done` resolves when the CLI exits (never rejects).
   */
  startSend(file: string, to: string, options: { from?: string; timeoutMs?: number } = {}): RunningSend {
    const from = this.member(options.from ?? 'sender');
    const startedAt = Date.now();
    const started = process.hrtime.bigint();
    const child = this.spawnIn(from.name, process.execPath, [NVID_BIN, 'send', file, '--to', to, '--json', '--config', this.proc(from.name).configFile]);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 1_800_000);
    const done = new Promise<FleetSendResult>((resolve) => {
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const lines: Array<Record<string, unknown>> = [];
        for (const line of stdout.split('\n')) {
          if (!line.trim()) continue;
          try {
            lines.push(JSON.parse(line) as Record<string, unknown>);
          } catch {
            // not JSON: kept in stdout
          }
        }
        resolve({ code, signal, seconds, startedAt, lines, result: lines.at(-1), stdout, stderr });
      });
    });
    return { child, startedAt, done };
  }

  /** `nvid send FILE --to TO --json` from the sender, to completion. */
  send(file: string, to: string, options: { from?: string; timeoutMs?: number } = {}): Promise<FleetSendResult> {
    return this.startSend(file, to, options).done;
  }

  /** `name`'s `received` entries for content `sha256`, at or after `since` (ms since the epoch). */
  async receivedEntries(name: string, sha256: string, since = 0): Promise<ReceivedEntry[]> {
    const entries = await this.proc(name).control<ReceivedEntry[]>('history', { kind: 'received', limit: 1000 });
    // History times are this machine's clock in milliseconds, as Date.now() is: an entry of a send started at `since` is not older.
    return (entries ?? []).filter((e) => e.kind === 'received' && e.sha256 === sha256 && Date.parse(e.time) >= since);
  }

  /**
   * Waits until `name` holds a verified copy of `sha256` (a `received` entry
   * with that SHA-256, written after verification and storing) newer than
   * `since`; returns the entry, whose `time` says when it was kept.
   */
  async waitForFile(name: string, sha256: string, options: { since?: number; timeoutMs?: number } = {}): Promise<ReceivedEntry> {
    return waitFor(async () => (await this.receivedEntries(name, sha256, options.since ?? 0))[0], `${name} to hold ${sha256.slice(0, 12)}`, options.timeoutMs ?? 600_000, 250);
  }

  /**
   * Removes every file of `name`'s library (the files `nvid library` lists),
   * so a later send of the same file is a new delivery, not a duplicate. A
   * headless node has no `screen delete`, so the files go directly, as a
   * person emptying the folder would.
   */
  async clearLibrary(name: string): Promise<void> {
    for (const item of await this.proc(name).control<Array<{ path: string }>>('library')) rmSync(item.path, { force: true });
  }

  /**
   * Copies `mb` MB of zeros over TCP from `from` to `to` (two Node processes
   * in the namespaces) and returns the payload rate in Mbit/s: proof that the
   * shaping delivers what it says.
   */
  async measureCopy(from: string, to: string, mb = 10): Promise<number> {
    const port = 5901;
    const server = this.spawnIn(to, process.execPath, [
      '-e',
      `const s=require('net').createServer(c=>{let n=0;const t=process.hrtime.bigint();c.on('data',d=>n+=d.length);c.on('end',()=>{const sec=Number(process.hrtime.bigint()-t)/1e9;console.log(JSON.stringify({n,sec}));process.exit(0)})}).listen(${port},'${this.member(to).address}',()=>console.log('ready'))`,
    ]);
    let out = '';
    server.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('ready'), 'the copy receiver', 10_000, 20);
    await this.exec(from, process.execPath, [
      '-e',
      `const c=require('net').connect(${port},'${this.member(to).address}',()=>{const b=Buffer.alloc(1<<20);let i=0;const w=()=>{while(i<${mb}){i++;if(!c.write(b))return c.once('drain',w)}c.end()};w()})`,
    ]);
    await waitFor(() => out.includes('"n"'), 'the copy to finish', 60_000, 20);
    const { n, sec } = JSON.parse(out.split('\n').find((l) => l.includes('"n"'))!) as { n: number; sec: number };
    return (n * 8) / sec / 1e6;
  }

  /** Kills every process started here and in these namespaces, deletes the namespaces and (if made here) the folder. Never throws. */
  async destroy(): Promise<void> {
    await Promise.all([...this.members.values()].map((m) => m.process?.stop(3_000).catch(() => undefined)));
    for (const child of this.children) {
      try {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      } catch {
        // gone already
      }
    }
    this.destroySync();
  }

  /**
   * The synchronous part of destroy(), safe in an exit handler: kills what
   * still runs inside these namespaces (only ours: their names are made here),
   * then deletes them. Never throws.
   */
  destroySync(): void {
    for (const ns of this.namespaces) {
      try {
        const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean);
        for (const pid of pids) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // gone already
          }
        }
      } catch {
        // no such namespace
      }
    }
    for (const ns of this.namespaces.splice(0).reverse()) {
      try {
        ipSync(['netns', 'del', ns]);
      } catch {
        // already gone
      }
    }
    if (this.ownsDir) {
      try {
        rmSync(this.dir, { recursive: true, force: true });
      } catch {
        // leave it
      }
    }
  }
}
