/**
 * What a running daemon answers on its control socket. The core answers the
 * built-in commands; anything else goes to plugins through `hooks.control`.
 */
import { isAbsolute, resolve } from 'node:path';
import { NvidError } from '../errors.js';
import type { NvidHooks } from '../hooks.js';
import type { HistoryLog, PeerView } from '../plugin-api.js';
import type { HistoryKind, Identity, ProgressEvent, Role, SendOptions, SendResult } from '../types.js';
import { answered, requireHook } from '../pipeline/hook-checks.js';
import type { ControlHandler } from './server.js';

/** What the control commands need from the daemon, and nothing more. */
export interface ControlPort {
  readonly role: Role;
  readonly name: string;
  readonly identity: Identity;
  readonly stateDir: string;
  readonly uptimeSeconds: number;
  readonly plugins: ReadonlyArray<{ readonly name: string; readonly source: string }>;
  readonly hooks: Pick<NvidHooks, 'status' | 'rename' | 'screenshot' | 'control'>;
  readonly peers: PeerView;
  readonly history: HistoryLog;
  transfersInFlight(): Array<ProgressEvent & { startedAt: number }>;
  send(file: string, to: string, options: SendOptions): Promise<SendResult>;
  /** Ask the process to stop, as SIGTERM does. */
  requestStop(): void;
}

const NAME = /^[^\u0000-\u001f\u007f/\\]{1,64}$/;

function stringArg(args: Record<string, unknown>, key: string, command: string): string {
  const value = args[key];
  if (typeof value !== 'string' || value.length === 0) throw new NvidError('NVID_ERR_USAGE', `${command}: "${key}" is required`);
  return value;
}

export function createControlHandler(daemon: ControlPort): ControlHandler {
  return async (command, args, emit, signal) => {
    switch (command) {
      case 'status':
        return daemon.hooks.status.call({
          role: daemon.role,
          name: daemon.name,
          id: daemon.identity.id,
          pid: process.pid,
          stateDir: daemon.stateDir,
          uptimeSeconds: Math.round(daemon.uptimeSeconds),
          plugins: daemon.plugins.map((p) => ({ name: p.name, source: p.source })),
          peers: daemon.peers.list().length,
          transfers: daemon.transfersInFlight(),
        });
      case 'peers':
        return daemon.peers.list().map((p) => (args.certs ? p : { id: p.id, name: p.name, address: p.address, port: p.port }));
      case 'send': {
        if (daemon.role !== 'node') throw new NvidError('NVID_ERR_USAGE', 'send: a coordinator does not send media; ask a node');
        const file = stringArg(args, 'file', 'send');
        const to = stringArg(args, 'to', 'send');
        if (!isAbsolute(file)) throw new NvidError('NVID_ERR_USAGE', 'send: "file" must be an absolute path');
        // The caller hanging up (Ctrl-C) cancels the send: `signal` aborts when its connection closes.
        return daemon.send(file, to, { onStart: (start) => emit('start', start), onProgress: (progress) => emit('progress', progress), signal });
      }
      case 'rename': {
        const name = stringArg(args, 'name', 'rename');
        if (!NAME.test(name)) throw new NvidError('NVID_ERR_USAGE', 'rename: a name is 1-64 characters without control characters or slashes');
        requireHook(daemon.hooks, 'rename', 'transport', 'cannot rename');
        return { name: answered(await daemon.hooks.rename.promise({ name }), 'rename', 'cannot rename') };
      }
      case 'history': {
        const limit = typeof args.limit === 'number' && args.limit > 0 ? Math.floor(args.limit) : undefined;
        const kind = typeof args.kind === 'string' ? (args.kind as HistoryKind) : undefined;
        return daemon.history.read({ ...(limit ? { limit } : {}), ...(kind ? { kind } : {}) });
      }
      case 'screenshot': {
        requireHook(daemon.hooks, 'screenshot', 'display', 'cannot take a screenshot');
        const out = resolve(typeof args.out === 'string' ? args.out : `screenshot-${Date.now()}.png`);
        return { path: answered(await daemon.hooks.screenshot.promise({ out }), 'screenshot', 'cannot take a screenshot') };
      }
      case 'stop':
        setImmediate(() => daemon.requestStop());
        return { stopping: true };
      default: {
        const answer = await daemon.hooks.control.promise({ command, args });
        if (answer === undefined) throw new NvidError('NVID_ERR_USAGE', `unknown control command "${command}"`);
        return answer;
      }
    }
  };
}
