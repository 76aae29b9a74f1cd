/**
 * The CLI's side of the control socket: one request, interim events, one reply.
 */
import { createConnection } from 'node:net';
import { errorFromJSON, NvidError } from '../errors.js';
import { readJsonLines, writeLine, type ControlReplyLine } from './protocol.js';

export interface CallOptions {
  onEvent?: (event: string, data: unknown) => void;
  /** Aborting hangs up: the node stops the command's work (a send is cancelled). */
  signal?: AbortSignal;
}

export function callControl(socketPath: string, command: string, args: Record<string, unknown> = {}, options: CallOptions = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let settled = false;
    const finish = (err: Error | undefined, value?: unknown) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    socket.once('connect', () => writeLine(socket, { id: 1, command, args }));
    options.signal?.addEventListener('abort', () => finish(new NvidError('NVID_ERR_CANCELLED', `${command}: cancelled by the caller`)), { once: true });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
        finish(new NvidError('NVID_ERR_NOT_RUNNING', `no node is running for this state folder (nothing answers on ${socketPath}); start one with: nvid node --config FILE`));
      } else if (err.code === 'EACCES') {
        finish(new NvidError('NVID_ERR_NOT_RUNNING', `permission denied on ${socketPath}: the control socket belongs to the user who runs the node`));
      } else {
        finish(new NvidError('NVID_ERR_CONTROL_PROTOCOL', `control socket ${socketPath}: ${err.message}`));
      }
    });
    socket.on('close', () => finish(new NvidError('NVID_ERR_CONTROL_PROTOCOL', 'the node closed the control connection without answering')));
    readJsonLines(
      socket,
      (value) => {
        const line = value as ControlReplyLine;
        if ('event' in line) options.onEvent?.(line.event, line.data);
        else if (line.ok) finish(undefined, line.result);
        else finish(errorFromJSON(line.error));
      },
      (err) => finish(err),
    );
  });
}
