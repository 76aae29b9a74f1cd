/**
 * What a running daemon answers on its control socket. The core answers the
 * built-in commands; anything else goes to plugins through `hooks.control`.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Daemon } from '../daemon.js';
import { NvidError } from '../errors.js';
import { requireHook, answered } from '../pipeline/context.js';
import { sendFile } from '../pipeline/send.js';
import type { HistoryKind } from '../types.js';
import type { ControlHandler } from './server.js';

const NAME = /^[^\u0000-\u001f\u007f/\\]{1,64}$/;

function stringArg(args: Record<string, unknown>, key: string, command: string): string {
  const value = args[key];
  if (typeof value !== 'string' || value.length === 0) throw new NvidError('NVID_ERR_USAGE', `${command}: "${key}" is required`);
  return value;
}

export function createControlHandler(daemon: Daemon): ControlHandler {
  return async (command, args, emit) => {
    switch (command) {
      case 'status':
        return daemon.hooks.status.call({
          role: daemon.role,
          name: daemon.name,
          id: daemon.identity.id,
          pid: process.pid,
          stateDir: daemon.config.stateDir,
          uptimeSeconds: Math.round(daemon.uptimeSeconds),
          plugins: daemon.plugins.map((p) => ({ name: p.name, source: p.source })),
          peers: daemon.peers.list().length,
          transfers: daemon.transfers.list(),
        });
      case 'peers':
        return daemon.peers.list().map((p) => (args.certs ? p : { id: p.id, name: p.name, address: p.address, port: p.port }));
      case 'send': {
        if (daemon.role !== 'node') throw new NvidError('NVID_ERR_USAGE', 'send: a coordinator does not send media; ask a node');
        const file = stringArg(args, 'file', 'send');
        const to = stringArg(args, 'to', 'send');
        if (!isAbsolute(file)) throw new NvidError('NVID_ERR_USAGE', 'send: "file" must be an absolute path');
        const listener = (event: { transferId: string }) => emit('progress', event);
        daemon.progressListeners.add(listener);
        try {
          return await sendFile(daemon.pipelineContext(), file, to);
        } finally {
          daemon.progressListeners.delete(listener);
        }
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
        setImmediate(() => process.kill(process.pid, 'SIGTERM'));
        return { stopping: true };
      default: {
        const answer = await daemon.hooks.control.promise({ command, args });
        if (answer === undefined) throw new NvidError('NVID_ERR_USAGE', `unknown control command "${command}"`);
        return answer;
      }
    }
  };
}
