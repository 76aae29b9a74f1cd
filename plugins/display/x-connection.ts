/**
 * One X11 connection the screen keeps open, to move a prepared player's
 * window on screen at the hand-over. Run as a program (`xdotool windowmove`),
 * the move cost a process start each time: a few milliseconds on a quiet
 * machine, over 100 ms on a busy one, and the item before stayed that much
 * longer on screen. Over a connection already open it is one request and a
 * round trip. And a prepared player's window asks the server to keep its
 * contents (backing store), so a player frozen ahead of its turn shows its
 * picture the moment it moves in, instead of when the continued process
 * gets to repaint (about 130 ms late in the middle of the test suite). Only
 * what that needs of the X11 protocol is here: the connection set-up (with
 * the MIT-MAGIC-COOKIE-1 from the Xauthority file, when there is one),
 * ChangeWindowAttributes, ConfigureWindow, and GetInputFocus as the round
 * trip that says the server has done them.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { homedir, hostname } from 'node:os';
import { NvidError } from '../../core/errors.js';

const CHANGE_WINDOW_ATTRIBUTES = 2;
const CONFIGURE_WINDOW = 12;
const BACKING_STORE = 0x40;
const BACKING_STORE_ALWAYS = 2;
const GET_INPUT_FOCUS = 43;
const CONFIGURE_X = 0x1;
const CONFIGURE_Y = 0x2;
const COOKIE = 'MIT-MAGIC-COOKIE-1';
/** Xauthority families that mean this machine, or any. */
const FAMILY_LOCAL = 256;
const FAMILY_WILD = 65535;

/** X11's error codes, for messages (the protocol's own names). */
const ERROR_NAMES: Record<number, string> = { 3: 'BadWindow', 2: 'BadValue', 8: 'BadMatch', 16: 'BadLength' };

/** Where `display` (`:0`, `:99.0`, `unix:1`, `host:10.0`) listens, and its number. */
export function displayAddress(display: string): { path?: string; host?: string; port?: number; number: string } {
  const match = /^([^:]*):(\d+)(?:\.\d+)?$/.exec(display);
  if (!match) throw new NvidError('NVID_ERR_DISPLAY_UNAVAILABLE', `cannot read the X display name "${display}" (expected :N, :N.S or host:N)`);
  const [, host, number] = match as unknown as [string, string, string];
  if (host === '' || host === 'unix') return { path: `/tmp/.X11-unix/X${number}`, number };
  return { host, port: 6000 + Number(number), number };
}

/** The MIT-MAGIC-COOKIE-1 for display `number` in an Xauthority file's bytes, if any. */
export function findCookie(file: Buffer, number: string, local: boolean, host = hostname()): Buffer | undefined {
  let at = 0;
  const field = () => {
    const length = file.readUInt16BE(at);
    if (at + 2 + length > file.length) throw new RangeError('torn');
    const value = file.subarray(at + 2, at + 2 + length);
    at += 2 + length;
    return value;
  };
  while (at + 2 <= file.length) {
    try {
      const family = file.readUInt16BE(at);
      at += 2;
      const address = field().toString('latin1');
      const displayNumber = field().toString('latin1');
      const name = field().toString('latin1');
      const data = field();
      // Over the local socket, the cookie of this host (or of any); over TCP, the display number decides.
      const here = !local || family === FAMILY_WILD || (family === FAMILY_LOCAL && address === host);
      if (name === COOKIE && (displayNumber === number || displayNumber === '') && here) return Buffer.from(data);
    } catch {
      return undefined; // a torn file: no cookie, and the server decides
    }
  }
  return undefined;
}

function padded(bytes: Buffer): Buffer {
  return Buffer.concat([bytes, Buffer.alloc((4 - (bytes.length % 4)) % 4)]);
}

export class XConnection {
  readonly #socket: Socket;
  #received: Buffer = Buffer.alloc(0);
  #sequence = 0;
  /** Round trips waiting for their reply, by sequence number (16 bits, as the server counts). */
  readonly #waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  /** The first error seen for a request since the last round trip, by its sequence number. */
  readonly #errors = new Map<number, string>();
  #closed: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
  }

  /** Connects to `display` and completes the X11 set-up. */
  static async open(display: string, timeoutMs = 5000): Promise<XConnection> {
    const where = displayAddress(display);
    const authority = process.env.XAUTHORITY ?? `${homedir()}/.Xauthority`;
    let cookie: Buffer | undefined;
    try {
      cookie = findCookie(readFileSync(authority), where.number, where.path !== undefined);
    } catch {
      cookie = undefined; // no Xauthority file: a server without access control needs none
    }
    const socket = where.path ? connect({ path: where.path }) : connect({ host: where.host!, port: where.port! });
    const connection = new XConnection(socket);
    const name = Buffer.from(cookie ? COOKIE : '', 'latin1');
    const data = cookie ?? Buffer.alloc(0);
    const head = Buffer.alloc(12);
    head.write('l', 0, 'latin1'); // little-endian
    head.writeUInt16LE(11, 2);
    head.writeUInt16LE(0, 4);
    head.writeUInt16LE(name.length, 6);
    head.writeUInt16LE(data.length, 8);
    socket.write(Buffer.concat([head, padded(name), padded(data)]));
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string, cause?: Error) => {
        socket.destroy();
        reject(new NvidError('NVID_ERR_DISPLAY_UNAVAILABLE', `cannot open X display "${display}": ${why}`, cause ? { cause } : undefined));
      };
      const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
      const onData = (chunk: Buffer) => {
        connection.#received = Buffer.concat([connection.#received, chunk]);
        const got = connection.#received;
        if (got.length < 8) return;
        const length = 8 + 4 * got.readUInt16LE(6);
        if (got.length < length) return;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', onError);
        connection.#received = got.subarray(length);
        if (got[0] === 1) {
          connection.#listen();
          resolve();
        } else fail(got[0] === 0 ? `refused: ${got.toString('latin1', 8, 8 + got[1]!)}` : 'it asks for an authentication nvid does not speak');
      };
      const onError = (err: Error) => {
        clearTimeout(timer);
        fail(err.message, err);
      };
      socket.on('data', onData);
      socket.on('error', onError);
    });
    return connection;
  }

  /** Moves window `id` (as xwininfo prints it, `0x…`, or a number) to x, y; resolves once the server has done it. */
  moveWindow(id: string | number, x: number, y: number): Promise<void> {
    // A 16-bit value-mask and two bytes of padding, then the values.
    const tail = Buffer.alloc(12);
    tail.writeUInt16LE(CONFIGURE_X | CONFIGURE_Y, 0);
    tail.writeInt32LE(x, 4);
    tail.writeInt32LE(y, 8);
    return this.#windowRequest(CONFIGURE_WINDOW, id, 'move', tail);
  }

  /**
   * Asks the server to keep window `id`'s contents while it is hidden or off screen (backing
   * store: Always), so that moved on screen it shows at once what its client drew, even a client
   * that is stopped. The client must draw once more after this for the kept contents to hold it.
   */
  keepContents(id: string | number): Promise<void> {
    // A 32-bit value-mask, then the value.
    const tail = Buffer.alloc(8);
    tail.writeUInt32LE(BACKING_STORE, 0);
    tail.writeUInt32LE(BACKING_STORE_ALWAYS, 4);
    return this.#windowRequest(CHANGE_WINDOW_ATTRIBUTES, id, 'keep the contents of', tail);
  }

  /**
   * Sends a request about a window (its opcode, the window, then `tail`: the value-mask and
   * values), then a round trip; rejects with the server's error for it, naming the window.
   */
  async #windowRequest(opcode: number, id: string | number, what: string, tail: Buffer): Promise<void> {
    const request = Buffer.alloc(8 + tail.length);
    request.writeUInt8(opcode, 0);
    request.writeUInt16LE(request.length / 4, 2); // length in 4-byte units
    request.writeUInt32LE((typeof id === 'number' ? id : Number.parseInt(id, 16)) >>> 0, 4);
    tail.copy(request, 8);
    const sent = this.#send(request);
    await this.#roundTrip();
    const error = this.#errors.get(sent);
    this.#errors.clear();
    if (error) throw new NvidError('NVID_ERR_PLAYER', `the X server refused to ${what} window ${typeof id === 'number' ? `0x${id.toString(16)}` : id}: ${error}`);
  }

  /** Whether the connection is still usable (the X server may have gone away). */
  get open(): boolean {
    return !this.#closed;
  }

  close(): void {
    this.#fail(new Error('closed'));
    this.#socket.destroy();
  }

  #send(request: Buffer): number {
    if (this.#closed) throw new NvidError('NVID_ERR_DISPLAY_UNAVAILABLE', `the X connection is gone: ${this.#closed.message}`);
    this.#sequence = (this.#sequence + 1) & 0xffff;
    this.#socket.write(request);
    return this.#sequence;
  }

  /** GetInputFocus: its reply comes after everything sent before it was done. */
  #roundTrip(): Promise<void> {
    const request = Buffer.alloc(4);
    request.writeUInt8(GET_INPUT_FOCUS, 0);
    request.writeUInt16LE(1, 2);
    const sequence = this.#send(request);
    return new Promise((resolve, reject) => this.#waiting.set(sequence, { resolve, reject }));
  }

  #listen(): void {
    this.#socket.on('data', (chunk: Buffer) => {
      this.#received = this.#received.length > 0 ? Buffer.concat([this.#received, chunk]) : chunk;
      this.#readMessages();
    });
    this.#socket.on('error', (err) => this.#fail(err));
    this.#socket.on('close', () => this.#fail(new Error('the X server closed the connection')));
    this.#readMessages();
  }

  /** Errors, replies and events are 32 bytes, a reply more by its length field. */
  #readMessages(): void {
    while (this.#received.length >= 32) {
      const got = this.#received;
      const kind = got[0]!;
      const length = kind === 1 ? 32 + 4 * got.readUInt32LE(4) : 32;
      if (got.length < length) return;
      const sequence = got.readUInt16LE(2);
      if (kind === 0) {
        const code = got[1]!;
        this.#errors.set(sequence, `${ERROR_NAMES[code] ?? `X error ${code}`}`);
      } else if (kind === 1) {
        this.#waiting.get(sequence)?.resolve();
        this.#waiting.delete(sequence);
      }
      // Events: none were asked for; skipped.
      this.#received = got.subarray(length);
    }
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.#closed = err;
    for (const waiter of this.#waiting.values()) waiter.reject(new NvidError('NVID_ERR_DISPLAY_UNAVAILABLE', `the X connection is gone: ${err.message}`, { cause: err }));
    this.#waiting.clear();
  }
}
