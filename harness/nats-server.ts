/**
 * A private `nats-server` with JetStream for tests and benches: on 127.0.0.1,
 * on a port it picks itself (or the one it had before, to restart it under
 * running clients), its store in a folder of the caller's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where Debian puts it (`apt-get install nats-server`, which scripts/bootstrap.sh does), else the PATH. */
export function natsServerBinary(): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', ...(process.env.PATH ?? '').split(delimiter)]) {
    const candidate = join(dir, 'nats-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class NatsServer {
  readonly storeDir: string;
  port = 0;
  private child: ChildProcess | undefined;
  log = '';

  private constructor(storeDir: string) {
    this.storeDir = storeDir;
  }

  /** Starts a server with JetStream storing in `storeDir`; resolves once it takes clients. */
  static async start(storeDir: string, timeoutMs = 15_000): Promise<NatsServer> {
    const server = new NatsServer(storeDir);
    await server.launch(timeoutMs);
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts it again on the same port and store (after stop or kill). */
  async restart(timeoutMs = 15_000): Promise<void> {
    await this.launch(timeoutMs);
  }

  /** SIGTERM (a clean shutdown), SIGKILL if it lingers. */
  async stop(): Promise<void> {
    await this.end('SIGTERM');
  }

  /** SIGKILL: the server is gone at once, as in a crash. */
  async kill(): Promise<void> {
    await this.end('SIGKILL');
  }

  private async end(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    running.delete(child);
  }

  private launch(timeoutMs: number): Promise<void> {
    this.log = '';
    const binary = natsServerBinary();
    if (!binary) return Promise.reject(new Error('nats-server is not installed (apt-get install nats-server, or run scripts/bootstrap.sh)'));
    // -p -1: a free port of the server's choosing, read back from its log; a restart asks for the same one again.
    const args = ['-js', '-a', '127.0.0.1', '-p', String(this.port || -1), '-sd', this.storeDir];
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    running.add(child);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`nats-server did not start within ${timeoutMs} ms:\n${this.log}`));
      }, timeoutMs);
      child.stderr!.on('data', (d: Buffer) => {
        this.log += d.toString();
        const port = /Listening for client connections on [^\s]*:(\d+)/.exec(this.log);
        if (port && this.port === 0) this.port = Number(port[1]);
        if (/Server is ready/.test(this.log) && this.port > 0) {
          clearTimeout(timer);
          this.log = '';
          resolve();
        }
      });
      child.once('exit', (code) => {
        running.delete(child);
        clearTimeout(timer);
        reject(new Error(`nats-server exited with ${code} before it was ready:\n${this.log}`));
      });
    });
  }
}
