/**
 * Starts a real Xvfb for tests, on a display number the server picks itself
 * (`-displayfd`), so parallel runs and stale servers never collide. Every
 * server started here carries a marker in its environment, so leftovers of a
 * crashed run can be found and killed without touching anyone else's X server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';

const MARKER = 'NVID_TEST_XVFB=1';

/** A running Xvfb. */
export interface Xvfb {
  /** e.g. `:3` */
  readonly display: string;
  readonly width: number;
  readonly height: number;
  readonly pid: number;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts Xvfb with one screen of `size` (`WxHxDEPTH`). The root window is
 * black (`-br`), so "nothing shown" looks like a black idle screen.
 * `extraArgs` go on its command line (`-auth FILE`, for a server that
 * checks cookies).
 */
export async function startXvfb(size = '320x240x24', timeoutMs = 10_000, extraArgs: readonly string[] = []): Promise<Xvfb> {
  const [width, height] = size.split('x').map(Number) as [number, number];
  const child = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', size, '-br', '-nolisten', 'tcp', '-noreset', ...extraArgs], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, NVID_TEST_XVFB: '1' },
  });
  running.add(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined);
  const displayNumber = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb did not report a display within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    (child.stdio[3] as Readable).on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('\n')) {
        clearTimeout(timer);
        resolve(text.trim());
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited at start: ${stderr}`));
    });
  });
  return {
    display: `:${displayNumber}`,
    width,
    height,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
      running.delete(child);
    },
  };
}

/**
 * Kills Xvfb servers that earlier test runs started and left behind: marked
 * as ours and orphaned (their test process is gone, so they were re-parented).
 * Servers of test runs still going are left alone. Returns how many.
 */
export function killLeftoverXvfb(): number {
  let killed = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      const cmd = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      // Field 4 of /proc/PID/stat is the parent pid; the name (field 2) has no spaces for Xvfb.
      const parent = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(' ')[3]);
      if (cmd === 'Xvfb' && environ.includes(MARKER) && !isAlive(parent)) {
        process.kill(Number(entry), 'SIGKILL');
        killed++;
      }
    } catch {
      // Not ours to read, or gone.
    }
  }
  return killed;
}

/** Whether `pid` is a live test runner (not init, nor a subreaper that adopted an orphan). */
function isAlive(pid: number): boolean {
  if (pid <= 1) return false;
  try {
    // An orphan is adopted by a subreaper (e.g. a container's init); a test runner is node or mocha.
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return comm === 'node' || comm === 'mocha' || comm.startsWith('npm');
  } catch {
    return false;
  }
}
