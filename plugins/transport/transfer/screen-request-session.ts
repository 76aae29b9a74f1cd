/**
 * The screen's end of a remote-screen request. A controller opens the same
 * mutual-TLS connection as a transfer, to the same port, but its first
 * message is `screen-request` instead of `transfer`; the incoming session
 * hands the connection here. The core decides (is the sender one of this
 * node's controllers?) and answers; this session only carries the answer back:
 * a `screen-answer` header, then its bytes as data frames and an end frame
 * (a PNG, or JSON for the screen's state, the library and the schedule), or an error frame
 * with the refusal's code.
 */
import { NvidError, asNvidError } from '../../../core/errors.js';
import type { Peer, RemoteScreenAnswer, RemoteScreenRequest } from '../../../core/types.js';
import { DATA_FRAME_BYTES } from '../wire/frame-codec.js';
import type { FramedConnection } from '../wire/framed-connection.js';
import type { ListenerOptions } from '../wire/guarded-tls-server.js';
import { MAX_SCREEN_ANSWER_BYTES, type ScreenRequestMessage } from '../wire/wire-messages.js';

/** Answers a screen request from an authenticated peer (the core's TransportPowers.serveScreenRequest). */
export type ServeScreen = (sender: Peer, request: RemoteScreenRequest) => Promise<RemoteScreenAnswer>;

export class ScreenRequestSession {
  private readonly conn: FramedConnection;
  private readonly sender: Peer;
  private readonly log: ListenerOptions['log'];

  constructor(conn: FramedConnection, sender: Peer, log: ListenerOptions['log']) {
    this.conn = conn;
    this.sender = sender;
    this.log = log;
  }

  /** Runs the request through `serve` and sends the answer or the refusal; the connection ends either way. */
  run(message: ScreenRequestMessage, serve: ServeScreen | undefined): void {
    // Nothing more is expected from the controller: a slow screenshot must not look like a quiet sender.
    this.conn.socket.setTimeout(0);
    const answer = serve ? serve(this.sender, requestOf(message)) : Promise.reject(new NvidError('NVID_ERR_NOT_AVAILABLE', 'this node does not answer screen requests'));
    answer.then(
      (result) => this.answer(result),
      (err: unknown) => this.refuse(asNvidError(err, 'NVID_ERR_HOOK'), message.action),
    );
  }

  private answer(result: RemoteScreenAnswer): void {
    const bytes = bytesOf(result);
    if (bytes.length > MAX_SCREEN_ANSWER_BYTES) {
      this.refuse(new NvidError('NVID_ERR_REFUSED', `the answer is ${bytes.length} bytes, over the ${MAX_SCREEN_ANSWER_BYTES}-byte limit`), result.kind);
      return;
    }
    this.conn.send({ type: 'screen-answer', kind: result.kind, length: bytes.length });
    for (let at = 0; at < bytes.length; at += DATA_FRAME_BYTES) this.conn.sendData(bytes.subarray(at, at + DATA_FRAME_BYTES));
    this.conn.sendEnd();
    this.conn.end();
    this.log.info({ peer: this.sender.id, kind: result.kind, bytes: bytes.length }, `answered a screen request from ${this.sender.name}`);
  }

  /** The core refused (and recorded it) or the screen failed: the controller hears the code and the reason. */
  private refuse(err: NvidError, action: string): void {
    this.log.info({ peer: this.sender.id, code: err.code, action }, `screen request from ${this.sender.name} refused: ${err.message}`);
    this.conn.fail(err);
  }
}

/** The request as the core takes it: only the fields its action uses. */
export function requestOf(message: ScreenRequestMessage): RemoteScreenRequest {
  const { action } = message;
  if (action === 'show' || action === 'delete') {
    if (!message.item) throw new NvidError('NVID_ERR_BAD_FRAME', `a ${action} screen request names no library item`);
    return { action, item: message.item };
  }
  if (action === 'screenshot') return message.width !== undefined ? { action, width: message.width } : { action };
  if (action === 'schedule-set') {
    if (!message.signage) throw new NvidError('NVID_ERR_BAD_FRAME', 'a schedule-set screen request carries no playlists and schedule');
    return { action, signage: message.signage };
  }
  return { action };
}

function bytesOf(result: RemoteScreenAnswer): Buffer {
  if (result.kind === 'screenshot') return result.png;
  return Buffer.from(JSON.stringify(result.kind === 'screen' ? result.screen : result.kind === 'schedule' ? result.schedule : result.items), 'utf8');
}
