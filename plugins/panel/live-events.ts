/**
 * The page's live channel (`/api/events`): every open WebSocket gets every
 * message, as one JSON object per message. A socket that stopped reading is
 * closed instead of queueing without bound.
 */

/** What the panel needs of a WebSocket (the `ws` package's, as @fastify/websocket hands it). */
export interface EventSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  on(event: 'close', listener: () => void): unknown;
}

const OPEN = 1;
/** A page this far behind is not reading; it reloads everything when it reconnects. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export type LiveMessage =
  | { type: 'peers'; peers: unknown[] }
  | { type: 'node'; node: { id: string; name: string } }
  | { type: 'send'; send: unknown }
  | { type: 'history'; entry: unknown }
  | { type: 'screen'; screen: unknown }
  | { type: 'library' };

export class LiveEvents {
  readonly #sockets = new Set<EventSocket>();

  add(socket: EventSocket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
  }

  get listeners(): number {
    return this.#sockets.size;
  }

  broadcast(message: LiveMessage): void {
    if (this.#sockets.size === 0) return;
    const text = JSON.stringify(message);
    for (const socket of this.#sockets) {
      if (socket.readyState !== OPEN) continue;
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) socket.close(1013, 'not reading events');
      else socket.send(text);
    }
  }

  closeAll(): void {
    for (const socket of this.#sockets) socket.close(1001, 'the node is stopping');
    this.#sockets.clear();
  }
}
