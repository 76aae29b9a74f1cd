/**
 * A hand-driven client for attacking the servers: raw TCP or TLS with any
 * identity, sends whatever bytes a test wants, and records the frames it gets
 * back and when it was closed.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Identity } from '../../../core/types.js';
import { FrameDecoder, encodeMessage, type Frame } from '../../../plugins/transport/wire/frame-codec.js';

export interface RawPeer {
  readonly socket: Socket;
  readonly frames: Frame[];
  /** Resolves when the socket closes. */
  readonly closed: Promise<void>;
  isClosed(): boolean;
  send(message: { type: string; [k: string]: unknown }): void;
  /** The `code` of the first error frame received, if any. */
  errorCode(): string | undefined;
}

function wrap(socket: Socket): RawPeer {
  const frames: Frame[] = [];
  const decoder = new FrameDecoder({ maxMessageBytes: 16 * 1024 * 1024, maxDataBytes: 16 * 1024 * 1024 });
  let closed = false;
  socket.on('data', (chunk: Buffer) => {
    try {
      frames.push(...decoder.push(chunk));
    } catch {
      // Attack clients do not care about the replies' validity.
    }
  });
  socket.on('error', () => undefined);
  const closedPromise = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      resolve();
    }),
  );
  return {
    socket,
    frames,
    closed: closedPromise,
    isClosed: () => closed,
    send: (message) => socket.write(encodeMessage(message)),
    errorCode: () => {
      for (const frame of frames) if (frame.kind === 'message' && frame.message.type === 'error') return String(frame.message.code);
      return undefined;
    },
  };
}

/** Plain TCP: for bytes that never become TLS. */
export async function rawTcp(port: number): Promise<RawPeer> {
  const socket = netConnect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return wrap(socket);
}

/** TLS 1.3 with `ident`'s certificate (or none), after the handshake. */
export async function rawTls(port: number, ident?: Identity): Promise<RawPeer> {
  const socket = tlsConnect({
    host: '127.0.0.1',
    port,
    minVersion: 'TLSv1.3',
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
    ...(ident ? { key: ident.keyPem, cert: ident.certPem } : {}),
  });
  const peer = wrap(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  return peer;
}

/** A hand-driven node joined to the coordinator (hello, then pings so it stays listed); `leave()` drops it. */
export async function joinAsNode(coordinatorPort: number, ident: Identity, name: string, port = 9): Promise<{ session: RawPeer; leave(): void }> {
  const session = await rawTls(coordinatorPort, ident);
  session.send({ type: 'hello', name, port });
  const keepAlive = setInterval(() => session.send({ type: 'ping' }), 250);
  return {
    session,
    leave() {
      clearInterval(keepAlive);
      session.socket.destroy();
    },
  };
}
