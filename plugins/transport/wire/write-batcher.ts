/**
 * Writes made in one turn of the event loop leave together: the first write
 * of a turn corks the socket and the turn's end uncorks it, so a burst goes
 * out in one writev (one TLS record on a TLS socket) instead of one system
 * call per write. On these machines the calls cost more than the bytes they
 * move, and sockets run with Nagle off, so nothing else would coalesce them.
 */
import type { Socket } from 'node:net';

export class WriteBatcher {
  private readonly socket: Socket;
  private corked = false;

  constructor(socket: Socket) {
    this.socket = socket;
  }

  /** Call before each write; only the first call of a turn corks. */
  batch(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    setImmediate(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }
}
