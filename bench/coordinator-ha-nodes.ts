/**
 * Simulated nodes for the failover benchmark: the certificates and mutual TLS
 * of coordinator-sim-nodes.ts, plus what failover needs: a list of
 * coordinators tried in turn (with the real client's backoff), and the set of
 * peer IDs each node knows, kept from the list and the joined/left deltas by
 * reading IDs out of the binary list frames and the leaves' JSON without
 * parsing whole messages.
 */
import type { TLSSocket } from 'node:tls';
import type { Identity } from '../core/types.js';
import { backoffDelay } from '../plugins/transport/coordinator/coordinator-client.js';
import { FRAME_KIND, LIST_MESSAGE, encodeMessage } from '../plugins/transport/wire/frame-codec.js';
import { RawFrameReader, forEachListEntry, tlsConnect } from './coordinator-sim-nodes.js';

const ID_FIELD = '"id":"';

/** The IDs of a list frame's entries, as hex (each entry starts with its 32-byte ID, wire-peer.ts). */
function listIds(payload: Buffer): string[] {
  const ids: string[] = [];
  forEachListEntry(payload, (at) => ids.push(payload.toString('hex', at, at + 32)));
  return ids;
}

export class FailoverSimNode {
  readonly identity: Identity;
  /** Coordinator ports in this node's order of preference. */
  readonly ports: readonly number[];
  index = 0;
  name: string;
  readonly known = new Set<string>();
  /** peer-left messages heard (a failover should cause none). */
  leftHeard = 0;
  /** Completed joins (welcome and the whole list), and when the last one completed (performance.now()). */
  joins = 0;
  joinedAt = 0;
  private socket: TLSSocket | undefined;
  private stopped = false;
  private failures = 0;
  private paging = new Set<string>();
  private firstJoin: (() => void) | undefined;

  constructor(identity: Identity, ports: readonly number[], name: string) {
    this.identity = identity;
    this.ports = ports;
    this.name = name;
  }

  get port(): number {
    return this.ports[this.index]!;
  }

  /** Joins the first coordinator in its list (or the next ones, if that fails); resolves at the first complete list. */
  start(): Promise<void> {
    const first = new Promise<void>((resolve) => (this.firstJoin = resolve));
    this.attempt();
    return first;
  }

  close(): void {
    this.stopped = true;
    this.socket?.destroy();
  }

  /** One connection attempt; any failure, or the link dropping later, moves on to the next coordinator. */
  private attempt(): void {
    if (this.stopped) return;
    const reader = new RawFrameReader();
    tlsConnect(this.port, this.identity, (bytes) => reader.pushBytes(bytes, (payload, kind) => (kind === FRAME_KIND.list ? this.onList(payload) : this.onMessage(payload.toString('latin1'))))).then(
      (socket) => {
        this.socket = socket;
        this.paging = new Set();
        socket.on('error', () => undefined);
        socket.once('close', () => {
          if (socket === this.socket) this.retry();
        });
        socket.write(encodeMessage({ type: 'hello', name: this.name, port: 9 } as never));
      },
      () => this.retry(),
    );
  }

  /** Like the real client: the next coordinator in the list, after the backoff of a first retry (slower only per full round). */
  private retry(): void {
    if (this.stopped) return;
    this.index = (this.index + 1) % this.ports.length;
    this.failures += 1;
    const delay = backoffDelay(Math.floor((this.failures - 1) / this.ports.length), 500, 30_000);
    setTimeout(() => this.attempt(), delay).unref();
  }

  private onList(payload: Buffer): void {
    if (payload[0] === LIST_MESSAGE.joined) {
      for (const id of listIds(payload)) if (id !== this.identity.id) this.known.add(id);
      return;
    }
    // The list names everyone, this node included.
    for (const id of listIds(payload)) if (id !== this.identity.id) this.paging.add(id);
    if (payload[0] === LIST_MESSAGE.lastPage) {
      // A (re)join's list replaces what the node knew.
      this.known.clear();
      for (const id of this.paging) this.known.add(id);
      this.paging = new Set();
      this.joins += 1;
      this.joinedAt = performance.now();
      this.failures = 0;
      this.firstJoin?.();
      this.firstJoin = undefined;
    }
  }

  private onMessage(json: string): void {
    if (json.startsWith('{"type":"peer-left"')) {
      this.leftHeard += 1;
      // A leave names the hex ID.
      const at = json.indexOf(ID_FIELD);
      if (at >= 0) this.known.delete(json.slice(at + ID_FIELD.length, at + ID_FIELD.length + 64));
    } else if (json.startsWith('{"type":"welcome"')) {
      this.name = (JSON.parse(json) as { name: string }).name;
    } else if (json.startsWith('{"type":"error"')) {
      // Refused (a directory hiccup, too many handshakes at once): the close that follows fails over.
      this.socket?.destroy();
    }
  }
}
