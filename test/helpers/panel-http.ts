/**
 * Raw HTTP for the panel's tests: node:http, so every header (Host, Origin,
 * Cookie) is exactly what the test says, and a tiny WebSocket reader (text
 * frames from the server, which are never masked) instead of a browser.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** Body bytes the client had written when the answer's headers arrived (for uploads). */
  bytesWrittenAtAnswer: number;
  json<T = { error: { code: string; message: string } }>(): T;
}

export interface CallOptions {
  headers?: Record<string, string | number>;
  /** A JSON value, a Buffer, or a stream of chunks written as they come (chunked unless content-length is given). */
  body?: unknown;
}

export function call(base: string, method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const url = new URL(path, base);
  const headers: Record<string, string | number> = { ...options.headers };
  let payload: Buffer | Readable | undefined;
  if (Buffer.isBuffer(options.body)) payload = options.body;
  else if (options.body && typeof (options.body as Readable).pipe === 'function') payload = options.body as Readable;
  else if (options.body !== undefined) {
    payload = Buffer.from(JSON.stringify(options.body));
    headers['content-type'] ??= 'application/json';
  }
  if (Buffer.isBuffer(payload)) headers['content-length'] ??= payload.length;
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    const req = httpRequest(url, { method, headers, setHost: headers.host === undefined && headers.Host === undefined }, (res) => {
      answered = true;
      const bytesWrittenAtAnswer = written;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, bytesWrittenAtAnswer, json: <T>() => JSON.parse(text) as T });
      });
    });
    // A server that answers before the body is done may close the connection under the writer: only an error without an answer counts.
    req.on('error', (err) => {
      if (!answered) setTimeout(() => !answered && reject(err), 500);
    });
    if (payload === undefined) req.end();
    else if (Buffer.isBuffer(payload)) req.end(payload);
    else {
      payload.on('data', (chunk: Buffer) => {
        if (answered || req.destroyed) return void payload.destroy();
        written += chunk.length;
        if (!req.write(chunk)) {
          payload.pause();
          req.once('drain', () => payload.resume());
        }
      });
      payload.on('end', () => req.end());
      // A body that fails mid-way is a client that went away: the connection goes with it.
      payload.on('error', (err) => req.destroy(err));
    }
  });
}

/** A multipart/form-data body with one file part. */
export function multipartBody(field: string, fileName: string, content: Buffer): { body: Buffer; contentType: string } {
  const boundary = `----nvid${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${fileName.replace(/"/g, '%22')}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { body: Buffer.concat([head, content, tail]), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** A connected WebSocket that collects the server's text messages. */
export class TextSocket {
  readonly messages: unknown[] = [];
  readonly #socket: Socket;
  #buffer = Buffer.alloc(0);

  private constructor(socket: Socket, head: Buffer) {
    this.#socket = socket;
    socket.on('data', (d: Buffer) => this.#take(d));
    socket.on('error', () => undefined);
    if (head.length) this.#take(head);
  }

  /** Opens `path`; resolves with the socket, or rejects with the HTTP status of a refused upgrade. */
  static open(base: string, path: string, headers: Record<string, string> = {}): Promise<TextSocket> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(new URL(path, base), {
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64'), ...headers },
      });
      req.on('upgrade', (_res, socket, head) => resolve(new TextSocket(socket, head)));
      req.on('response', (res) => {
        res.resume();
        reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** Messages of one `type` received so far. */
  ofType<T = Record<string, unknown>>(type: string): T[] {
    return this.messages.filter((m) => (m as { type?: string }).type === type) as T[];
  }

  close(): void {
    this.#socket.destroy();
  }

  #take(data: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, data]);
    for (;;) {
      if (this.#buffer.length < 2) return;
      const opcode = this.#buffer[0]! & 0x0f;
      let length = this.#buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.#buffer.length < 4) return;
        length = this.#buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.#buffer.length < 10) return;
        length = Number(this.#buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.#buffer.length < offset + length) return;
      const payload = this.#buffer.subarray(offset, offset + length);
      this.#buffer = this.#buffer.subarray(offset + length);
      if (opcode === 1) this.messages.push(JSON.parse(payload.toString('utf8')));
    }
  }
}
