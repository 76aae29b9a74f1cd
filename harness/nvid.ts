/**
 * Runs the real `nvid` CLI for tests: one-shot commands, and long-running
 * coordinator/node processes with their own temporary state folders.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { callControl } from '../core/control/client.js';

/** bin/nvid.js at the repository root (this file runs from dist/test/helpers). */
export const NVID_BIN = fileURLToPath(new URL('../../bin/nvid.js', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `nvid ...args` to completion. */
export function runNvid(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; uid?: number; gid?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [NVID_BIN, ...args], {
      env: { ...process.env, ...options.env },
      ...(options.cwd ? { cwd: options.cwd } : {}),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid !== undefined ? { uid: options.uid } : {}),
      ...(options.gid !== undefined ? { gid: options.gid } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs a control command with `--json` and parses its output. */
export async function nvidJson<T = unknown>(args: string[], options?: Parameters<typeof runNvid>[1]): Promise<T> {
  const result = await runNvid([...args, '--json'], options);
  if (result.code !== 0) throw new Error(`nvid ${args.join(' ')} exited ${result.code}: ${result.stdout}${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/**
 * The result of `nvid send --json`: its last line. The lines before it follow the
 * send as it happens (`start`, then `progress`).
 */
export function sendResult<T = { transferId: string; sha256: string; receipt: { storedAs: string; receiverId: string } }>(stdout: string): T & { event: 'sent' } {
  const lines = stdout.trim().split('\n');
  const last = JSON.parse(lines.at(-1)!) as T & { event: string };
  if (last.event !== 'sent') throw new Error(`the last line of nvid send --json is not the result: ${lines.at(-1)}`);
  return last as T & { event: 'sent' };
}

/** A temporary folder removed by `cleanup()`. */
export function tempDir(prefix = 'nvid-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeJson(path: string, value: unknown): string {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
  return path;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value or the time is up. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 15_000, intervalMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    await sleep(intervalMs);
  }
}

/** A running `nvid coordinator` or `nvid node` process. */
export class NvidProcess {
  readonly child: ChildProcess;
  readonly stateDir: string;
  readonly configFile: string;
  stderr = '';
  stdout = '';
  #exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(child: ChildProcess, stateDir: string, configFile: string) {
    this.child = child;
    this.stateDir = stateDir;
    this.configFile = configFile;
    child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.#exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /**
   * Writes `config` (stateDir defaults to `<dir>/state`) to `<dir>/config.json`,
   * starts the process and waits until its control socket answers.
   */
  static async start(
    role: 'coordinator' | 'node',
    dir: string,
    config: Record<string, unknown>,
    options: { env?: NodeJS.ProcessEnv; args?: string[]; timeoutMs?: number; wrap?: readonly string[] } = {},
  ): Promise<NvidProcess> {
    const full = { stateDir: join(dir, 'state'), ...config };
    const configFile = writeJson(join(dir, 'config.json'), full);
    // `wrap` runs it through another command, e.g. `ip netns exec NS` (which execs, so the child is nvid itself).
    const [command, ...prefix] = [...(options.wrap ?? []), process.execPath];
    const child = spawn(command!, [...prefix, NVID_BIN, role, '--config', configFile, ...(options.args ?? [])], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new NvidProcess(child, full.stateDir as string, configFile);
    let exitedEarly: { code: number | null } | undefined;
    void proc.#exited.then((e) => (exitedEarly = e));
    await waitFor(
      async () => {
        if (exitedEarly) throw new Error(`nvid ${role} exited with ${exitedEarly.code} before it was ready:\n${proc.stderr}`);
        return proc.control('status').then(() => true, () => false);
      },
      `nvid ${role} to answer on its control socket`,
      options.timeoutMs ?? 20_000,
    ).catch((err: Error) => {
      child.kill('SIGKILL');
      throw new Error(`${err.message}\nstderr:\n${proc.stderr}`);
    });
    return proc;
  }

  get controlSocket(): string {
    return join(this.stateDir, 'control.sock');
  }

  control<T = unknown>(command: string, args: Record<string, unknown> = {}): Promise<T> {
    return callControl(this.controlSocket, command, args) as Promise<T>;
  }

  /** Runs a CLI command against this process's state folder. */
  cli(args: string[], options: { timeoutMs?: number } = {}): Promise<RunResult> {
    return runNvid([...args, '--config', this.configFile], options);
  }

  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#exited;
  }

  /** SIGTERM and wait; SIGKILL if it does not stop in time. */
  async stop(timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.#exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const result = await this.#exited;
    clearTimeout(timer);
    return result;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.#exited;
  }
}
