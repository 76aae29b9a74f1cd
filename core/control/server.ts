/**
 * The local control endpoint: a Unix socket in the state folder, reachable by
 * the owner only (folder 0700, socket 0600). The CLI's commands talk to a
 * running node through it.
 */
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { asNvidError, NvidError } from '../errors.js';
import { readJsonLines, writeLine, type ControlRequestLine } from './protocol.js';

/**
 * Answers one command; `emit` sends interim events (progress) before the reply. `signal` aborts
 * when the caller goes away (Ctrl-C on `nvid send` closes the connection): long work stops then.
 */
export type ControlHandler = (command: string, args: Record<string, unknown>, emit: (event: string, data: unknown) => void, signal: AbortSignal) => Promise<unknown>;

/** Is something answering on this socket path? */
function isAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

export class ControlServer {
  readonly path: string;
  readonly #handler: ControlHandler;
  readonly #sockets = new Set<Socket>();
  readonly #callerGone = new WeakMap<Socket, AbortController>();
  #server: Server | undefined;

  constructor(path: string, handler: ControlHandler) {
    this.path = path;
    this.#handler = handler;
  }

  async listen(): Promise<void> {
    if (existsSync(this.path)) {
      if (await isAlive(this.path)) {
        throw new NvidError('NVID_ERR_ALREADY_RUNNING', `a node is already running with this state folder (control socket ${this.path} answers); stop it first or use another --state`);
      }
      // Left over by a node that died without cleaning up.
      unlinkSync(this.path);
    }
    const server = createServer((socket) => this.#serve(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(this.path, 0o600);
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket);
    const callerGone = new AbortController();
    this.#callerGone.set(socket, callerGone);
    socket.on('close', () => {
      this.#sockets.delete(socket);
      this.#callerGone.delete(socket);
      callerGone.abort();
    });
    socket.on('error', () => socket.destroy());
    readJsonLines(
      socket,
      (value) => void this.#answer(socket, value),
      (err) => {
        writeLine(socket, { id: 0, ok: false, error: err.toJSON() });
        socket.end();
      },
    );
  }

  async #answer(socket: Socket, value: unknown): Promise<void> {
    const request = value as Partial<ControlRequestLine>;
    const id = typeof request?.id === 'number' ? request.id : 0;
    if (typeof request?.command !== 'string') {
      writeLine(socket, { id, ok: false, error: { code: 'NVID_ERR_CONTROL_PROTOCOL', message: 'a request needs a "command" string' } });
      return;
    }
    const args = typeof request.args === 'object' && request.args !== null ? request.args : {};
    try {
      const signal = this.#callerGone.get(socket)?.signal ?? AbortSignal.abort();
      const result = await this.#handler(request.command, args, (event, data) => writeLine(socket, { id, event, data }), signal);
      writeLine(socket, { id, ok: true, result: result ?? null });
    } catch (err) {
      writeLine(socket, { id, ok: false, error: asNvidError(err, 'NVID_ERR_HOOK').toJSON() });
    }
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}
