/**
 * The control socket speaks newline-delimited JSON: one request per line from
 * the client, any number of event lines and then one reply line from the node.
 * Lines are capped so a confused client cannot make the node buffer forever.
 */
import type { Socket } from 'node:net';
import { NvidError } from '../errors.js';

export const MAX_LINE_BYTES = 1024 * 1024;

export interface ControlRequestLine {
  readonly id: number;
  readonly command: string;
  readonly args?: Record<string, unknown>;
}

export type ControlReplyLine =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: { code: string; message: string; details?: unknown } }
  | { readonly id: number; readonly event: string; readonly data: unknown };

/** Calls `onLine` with each parsed JSON line; errors on an over-long or unparsable line. */
export function readJsonLines(socket: Socket, onLine: (value: unknown) => void, onError: (err: NvidError) => void): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (!line.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        onError(new NvidError('NVID_ERR_CONTROL_PROTOCOL', 'a control line is not valid JSON'));
        return;
      }
      onLine(value);
    }
    if (buffered.length > MAX_LINE_BYTES) {
      onError(new NvidError('NVID_ERR_CONTROL_PROTOCOL', `a control line is longer than ${MAX_LINE_BYTES} bytes`));
      buffered = '';
    }
  });
}

export function writeLine(socket: Socket, value: ControlReplyLine | ControlRequestLine): void {
  if (!socket.destroyed) socket.write(`${JSON.stringify(value)}\n`);
}
