import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { NvidError, isNvidError } from '../../../core/errors.js';
import type { DeliveryReceipt, Identity } from '../../../core/types.js';
import { DEFAULT_LIMITS } from '../../../plugins/transport/wire/frame-codec.js';
import type { RejectInfo } from '../../../plugins/transport/wire/guarded-tls-server.js';
import { deliverEnvelope } from '../../../plugins/transport/transfer/transfer-client.js';
import { TransferServer, type IncomingEnvelope, type TransferServerOptions } from '../../../plugins/transport/transfer/transfer-server.js';
import { MemoryPeers, digest, identity, peerOf, silentLog, sleep, waitFor } from './helpers.js';
import { rawTcp, rawTls } from './raw-peer.js';

type Receive = (incoming: IncomingEnvelope) => Promise<DeliveryReceipt>;

/** A deterministic body of `total` bytes produced on demand; `produced` says how far the sender has read it. */
function source(total: number, chunk = 64 * 1024) {
  const block = randomBytes(chunk);
  const hash = createHash('sha256');
  const state = { produced: 0 };
  const stream = new Readable({
    highWaterMark: chunk,
    read() {
      if (state.produced >= total) {
        this.push(null);
        return;
      }
      const piece = block.subarray(0, Math.min(chunk, total - state.produced));
      block[0] = (block[0]! + 1) & 0xff; // vary the content from chunk to chunk
      hash.update(piece);
      state.produced += piece.length;
      this.push(Buffer.from(piece));
    },
  });
  return { stream, state, length: total, sha256: () => hash.digest('hex') };
}

/** What a test sends: a bare stream (length unknown: always data frames) or a body that knows its length. */
type Body = Readable | { readonly stream: Readable; readonly length: number };

const hashing = (receiverId: string): Receive => async ({ envelope, transferId }) => {
  const { sha256 } = await digest(envelope);
  return { transferId, receiverId, sha256, storedAs: `${transferId}.bin` };
};

for (const mode of ['tcp', 'tls'] as const) describe(`transport direct delivery (bodies over ${mode})`, function () {
  this.timeout(60_000);
  const servers: TransferServer[] = [];
  before(() => [0, 1, 2, 3].forEach(identity));
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });

  /** A receiving node `me` that admits the identities in `admitted`. */
  async function receiver(
    me: Identity,
    admitted: Identity[],
    receive?: Receive,
    extra: { authTimeoutMs?: number; idleTimeoutMs?: number; maxUnauthenticated?: number; maxActiveTransfers?: number; maxActiveTransfersPerPeer?: number; bodyRate?: TransferServerOptions['bodyRate'] } = {},
  ) {
    const peers = new MemoryPeers();
    admitted.forEach((id, i) => peers.upsert(peerOf(id, `peer-${i}`)));
    const rejects: RejectInfo[] = [];
    const received: string[] = [];
    const server = new TransferServer({
      identity: me,
      host: '127.0.0.1',
      port: 0,
      authTimeoutMs: extra.authTimeoutMs ?? 2000,
      maxUnauthenticated: extra.maxUnauthenticated ?? 16,
      idleTimeoutMs: extra.idleTimeoutMs ?? 5000,
      maxActiveTransfers: extra.maxActiveTransfers ?? 8,
      maxActiveTransfersPerPeer: extra.maxActiveTransfersPerPeer ?? 8,
      bodyRate: extra.bodyRate ?? { minBytesPerSecond: 0, windowMs: 30_000 },
      limits: DEFAULT_LIMITS,
      log: silentLog,
      onReject: (info) => rejects.push(info),
      bulkChannel: mode,
      lookupPeer: (id) => peers.get(id),
      receive: (incoming) => {
        received.push(incoming.transferId);
        return (receive ?? hashing(me.id))(incoming);
      },
    });
    servers.push(server);
    const port = await server.listen();
    return { server, port, rejects, received, peer: (name = 'receiver') => peerOf(me, name, port) };
  }

  function send(from: Identity, to: ReturnType<typeof peerOf>, body: Body, transferId = `t-${Math.random()}`, onProgress?: (n: number) => void) {
    const { stream, length } = body instanceof Readable ? { stream: body, length: undefined } : body;
    return deliverEnvelope({
      identity: from,
      peer: to,
      transferId,
      envelope: stream,
      ...(length !== undefined ? { length } : {}),
      bulkChannel: mode,
      connectTimeoutMs: 5000,
      ackTimeoutMs: 10_000,
      limits: DEFAULT_LIMITS,
      ...(onProgress ? { onProgress } : {}),
    });
  }

  /** The receiver took every body on the channel this mode uses (so a silent fallback fails the test). */
  function assertChannel(r: { server: TransferServer }, count: number) {
    assert.deepEqual(r.server.bodiesReceived, mode === 'tcp' ? { bulk: count, tls: 0 } : { bulk: 0, tls: count });
  }

  it('delivers a body intact and resolves with the receiver ack; progress reaches the total', async () => {
    const r = await receiver(identity(1), [identity(2)]);
    const body = source(20 * 1024 * 1024 + 123);
    const progress: number[] = [];
    const receipt = await send(identity(2), r.peer(), body, 'transfer-1', (n) => progress.push(n));
    assert.deepEqual(receipt, { transferId: 'transfer-1', receiverId: identity(1).id, sha256: body.sha256(), storedAs: 'transfer-1.bin' });
    assert.equal(progress.at(-1), 20 * 1024 * 1024 + 123);
    assert.ok(progress.every((n, i) => i === 0 || n > progress[i - 1]!), 'progress only grows');
    assertChannel(r, 1);
  });

  it('sends a body of unknown length as data frames inside TLS', async () => {
    const r = await receiver(identity(1), [identity(2)]);
    const body = source(3 * 1024 * 1024 + 5);
    const receipt = await send(identity(2), r.peer(), body.stream);
    assert.equal(receipt.sha256, body.sha256());
    assert.deepEqual(r.server.bodiesReceived, { bulk: 0, tls: 1 });
  });

  it('pushes back on the sender when the receiver consumes slowly', async () => {
    const total = 48 * 1024 * 1024;
    const body = source(total);
    let maxAhead = 0;
    const slow: Receive = async ({ envelope, transferId }) => {
      let consumed = 0;
      for await (const chunk of envelope) {
        consumed += (chunk as Buffer).length;
        maxAhead = Math.max(maxAhead, body.state.produced - consumed);
        if (consumed % (1024 * 1024) < (chunk as Buffer).length) await sleep(15);
      }
      return { transferId, receiverId: identity(1).id, sha256: '0'.repeat(64), storedAs: 'x' };
    };
    const r = await receiver(identity(1), [identity(2)], slow);
    await send(identity(2), r.peer(), body);
    assert.ok(maxAhead < 20 * 1024 * 1024, `sender ran ${maxAhead} bytes ahead of a slow receiver`);
    assertChannel(r, 1);
  });

  it('runs several transfers at once in both directions', async () => {
    const a = await receiver(identity(1), [identity(2)]);
    const b = await receiver(identity(2), [identity(1)]);
    const jobs = [0, 1, 2].flatMap((i) => {
      const toB = source(3 * 1024 * 1024 + i);
      const toA = source(2 * 1024 * 1024 + i);
      return [
        send(identity(1), b.peer(), toB, `ab-${i}`).then((r) => assert.equal(r.sha256, toB.sha256())),
        send(identity(2), a.peer(), toA, `ba-${i}`).then((r) => assert.equal(r.sha256, toA.sha256())),
      ];
    });
    await Promise.all(jobs);
    assert.equal(a.received.length, 3);
    assert.equal(b.received.length, 3);
    assertChannel(a, 3);
    assertChannel(b, 3);
  });

  it('refuses transfers beyond the active limit as busy, and takes them again once one finished', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held: Receive = async (incoming) => {
      await gate;
      return hashing(identity(1).id)(incoming);
    };
    const r = await receiver(identity(1), [identity(2)], held, { maxActiveTransfers: 2 });
    const first = [send(identity(2), r.peer(), source(1024), 'held-1'), send(identity(2), r.peer(), source(1024), 'held-2')];
    await waitFor(() => r.received.length === 2, 'two transfers in progress');
    const err = await send(identity(2), r.peer(), source(1024), 'third').then(() => undefined, (e: unknown) => e);
    assert.ok(isNvidError(err, 'NVID_ERR_REFUSED'));
    assert.equal(err.details?.reason, 'busy');
    release();
    await Promise.all(first);
    const later = await send(identity(2), r.peer(), source(1024), 'later');
    assert.equal(later.transferId, 'later');
  });

  it('refuses a peer its own transfers beyond the per-peer limit, while another peer still gets through', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held: Receive = async (incoming) => {
      if (incoming.transferId.startsWith('held')) await gate;
      return hashing(identity(1).id)(incoming);
    };
    const r = await receiver(identity(1), [identity(2), identity(3)], held, { maxActiveTransfersPerPeer: 2 });
    const first = [send(identity(2), r.peer(), source(1024), 'held-1'), send(identity(2), r.peer(), source(1024), 'held-2')];
    await waitFor(() => r.received.length === 2, 'two transfers of one peer in progress');
    const err = await send(identity(2), r.peer(), source(1024), 'third').then(() => undefined, (e: unknown) => e);
    assert.ok(isNvidError(err, 'NVID_ERR_REFUSED'));
    assert.equal(err.details?.reason, 'busy');
    assert.match(err.message, /2 transfers from peer-0 already in progress \(limit per peer 2\)/);
    const other = await send(identity(3), r.peer(), source(1024), 'other-peer');
    assert.equal(other.transferId, 'other-peer');
    release();
    await Promise.all(first);
    assert.equal((await send(identity(2), r.peer(), source(1024), 'later')).transferId, 'later');
  });

  it('cuts off a sender that trickles its body under the rate floor, though it never goes quiet', async () => {
    const r = await receiver(identity(1), [identity(2)], undefined, { bodyRate: { minBytesPerSecond: 64 * 1024, windowMs: 400 } });
    // A first 64 KiB at once (the bulk channel announces a hash of them), then 256 bytes every 20 ms:
    // about 12.8 KB/s, far under the floor, and never silent long enough for the idle timeout.
    let ticks = 0;
    const trickle = new Readable({
      read() {
        if (ticks++ === 0) this.push(Buffer.alloc(64 * 1024));
        else setTimeout(() => this.push(Buffer.alloc(256, ticks)), 20);
      },
    });
    const started = Date.now();
    const err = await send(identity(2), r.peer(), { stream: trickle, length: 4 * 1024 * 1024 }).then(() => undefined, (e: unknown) => e);
    trickle.destroy();
    assert.ok(isNvidError(err), `expected a refusal, got ${String(err)}`);
    assert.ok(Date.now() - started < 4000, 'cut within a few windows, long before the 5 s idle timeout could matter');
    await waitFor(() => r.rejects.some((x) => x.code === 'NVID_ERR_TIMEOUT' && /sender too slow: \d+ bytes\/s/.test(x.reason)), 'the receiver recorded why');
  });

  it('does not count against the sender the time the receiver holds it back', async () => {
    // The consumer reads nothing for a second (the body buffer fills and the source pauses), then all of it.
    // Counted from the first byte, that is about 1 MiB in a second: under a 4 MiB/s floor judged over 300 ms.
    const late: Receive = async (incoming) => {
      await sleep(1000);
      return hashing(identity(1).id)(incoming);
    };
    const r = await receiver(identity(1), [identity(2)], late, { bodyRate: { minBytesPerSecond: 4 * 1024 * 1024, windowMs: 300 } });
    const body = source(8 * 1024 * 1024);
    const receipt = await send(identity(2), r.peer(), body, 'held-back');
    assert.equal(receipt.sha256, body.sha256());
    assert.deepEqual(r.rejects, []);
  });

  it('refuses a certificate that is not an admitted peer before reading a frame', async () => {
    const r = await receiver(identity(1), [identity(2)]);
    const err = await send(identity(3), r.peer(), source(1024 * 1024)).then(() => undefined, (e: unknown) => e);
    assert.ok(isNvidError(err, 'NVID_ERR_REFUSED'));
    assert.equal(err.details?.code, 'NVID_ERR_UNTRUSTED_PEER');
    const raw = await rawTls(r.port, identity(3));
    raw.send({ type: 'transfer', transferId: 'sneaky' });
    await raw.closed;
    assert.equal(raw.errorCode(), 'NVID_ERR_UNTRUSTED_PEER');
    assert.deepEqual(r.received, []);
    assert.ok(r.rejects.some((x) => x.code === 'NVID_ERR_UNTRUSTED_PEER' && x.peerId === identity(3).id));
  });

  it('refuses to send to a node whose certificate is not the target peer ID', async () => {
    const r = await receiver(identity(1), [identity(2)]);
    const impostorEntry = { ...peerOf(identity(3), 'expected'), port: r.port };
    const err = await send(identity(2), impostorEntry, source(1024)).then(() => undefined, (e: unknown) => e);
    assert.ok(isNvidError(err, 'NVID_ERR_UNTRUSTED_PEER'));
    assert.deepEqual(r.received, []);
  });

  it('rejects with NVID_ERR_REFUSED carrying the receiver code when the receiver refuses', async () => {
    const refuse: Receive = async ({ envelope }) => {
      await digest(envelope);
      throw new NvidError('NVID_ERR_MEDIA_REJECTED', 'not a picture');
    };
    const r = await receiver(identity(1), [identity(2)], refuse);
    const err = await send(identity(2), r.peer(), source(1024 * 1024)).then(() => undefined, (e: unknown) => e);
    assert.ok(isNvidError(err, 'NVID_ERR_REFUSED'));
    assert.equal(err.details?.code, 'NVID_ERR_MEDIA_REJECTED');
    assert.equal(err.message, 'not a picture');
  });

  it('ends a large send promptly when the receiver refuses before reading the body', async () => {
    const vetoed: Receive = async () => {
      throw new NvidError('NVID_ERR_REFUSED', 'busy');
    };
    const r = await receiver(identity(1), [identity(2)], vetoed);
    const body = source(512 * 1024 * 1024);
    const err = await send(identity(2), r.peer(), body).then(() => undefined, (e: unknown) => e);
    assert.ok(isNvidError(err, 'NVID_ERR_REFUSED'));
    assert.ok(body.state.produced < 256 * 1024 * 1024, 'the sender stopped streaming long before the end');
  });

  for (const { title, delayMs, breaksAt } of [
    { title: 'tells the receiver to drop a transfer whose envelope fails on the sender side', delayMs: 0, breaksAt: 2 * 1024 * 1024 },
    // The receive pipeline is still busy elsewhere (a slow shouldAccept tap, say) when the body breaks:
    // the body's error must not go unheard, which would take the whole daemon down.
    { title: 'survives a sender that aborts before the receive pipeline has started reading', delayMs: 500, breaksAt: 256 * 1024 },
  ]) {
    it(title, async () => {
      const outcomes: unknown[] = [];
      const watching: Receive = async (incoming) => {
        await sleep(delayMs);
        try {
          return await hashing(identity(1).id)(incoming);
        } catch (err) {
          outcomes.push(err);
          throw err;
        }
      };
      const r = await receiver(identity(1), [identity(2)], watching);
      let sent = 0;
      const failing = new Readable({
        read() {
          if (sent >= breaksAt) return void this.destroy(new NvidError('NVID_ERR_CHUNK_AUTH', 'the seal stream broke'));
          sent += 65536;
          this.push(Buffer.alloc(65536));
        },
      });
      // Announced longer than it gets: the stream breaks first.
      const err = await send(identity(2), r.peer(), { stream: failing, length: 4 * 1024 * 1024 }).then(() => undefined, (e: unknown) => e);
      assert.ok(isNvidError(err, 'NVID_ERR_CHUNK_AUTH'), 'the sender sees its own failure');
      await waitFor(() => outcomes.length === 1, 'the receive pipeline saw the body fail');
    });
  }

  it('refuses a transfer header carrying anything but the transfer ID', async () => {
    const r = await receiver(identity(1), [identity(2)]);
    const chatty = await rawTls(r.port, identity(2));
    chatty.send({ type: 'transfer', transferId: 'x-transfer', fileName: 'holiday.jpg' });
    await chatty.closed;
    assert.equal(chatty.errorCode(), 'NVID_ERR_BAD_FRAME');
    assert.deepEqual(r.received, []);
  });

  it('survives random bytes, a 4 GiB prefix, a truncated body and a slow-loris while a transfer completes', async () => {
    const outcomes: string[] = [];
    const watching: Receive = async (incoming) => {
      try {
        return await hashing(identity(1).id)(incoming);
      } catch (err) {
        outcomes.push((err as NvidError).code);
        throw err;
      }
    };
    const r = await receiver(identity(1), [identity(2), identity(3)], watching, { authTimeoutMs: 500 });
    const good = source(16 * 1024 * 1024);
    const delivery = send(identity(2), r.peer(), good, 'good');

    const loris = await rawTcp(r.port);
    const noise = await rawTcp(r.port);
    // Random, except the first byte: 0x16 (a TLS handshake, one draw in 256) would make this a
    // stalled handshake that times out instead of noise refused at once.
    const junk = randomBytes(2048);
    junk[0] = 0x00;
    noise.socket.write(junk);
    const huge = await rawTls(r.port, identity(3));
    huge.send({ type: 'transfer', transferId: 'huge' });
    huge.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2]));
    const cut = await rawTls(r.port, identity(3));
    cut.send({ type: 'transfer', transferId: 'cut' });
    cut.socket.end(Buffer.concat([Buffer.from([0, 0, 0, 100, 1, 2]), Buffer.alloc(10)]));

    await Promise.all([loris.closed, noise.closed, huge.closed, cut.closed]);
    assert.equal(huge.errorCode(), 'NVID_ERR_FRAME_TOO_LARGE');
    const receipt = await delivery;
    assert.equal(receipt.sha256, good.sha256());
    await waitFor(() => outcomes.length === 2, 'both broken transfers failed in the receive pipeline');
    const codes = r.rejects.map((x) => x.code);
    assert.ok(codes.includes('NVID_ERR_TIMEOUT'), 'slow-loris timed out');
    assert.ok(codes.includes('NVID_ERR_FRAME_TOO_LARGE'));
    assert.ok(codes.filter((c) => c === 'NVID_ERR_BAD_FRAME').length >= 2, 'random bytes and the truncated frame');
  });

  it('caps unauthenticated connections and cuts off a sender that goes quiet mid-body', async () => {
    const r = await receiver(identity(1), [identity(2)], undefined, { maxUnauthenticated: 2, authTimeoutMs: 5000, idleTimeoutMs: 300 });
    const waiting = await Promise.all([rawTcp(r.port), rawTcp(r.port)]);
    await waitFor(() => r.server['server'].pendingCount === 2, 'two pending');
    const extra = await rawTcp(r.port);
    await extra.closed;
    waiting.forEach((w) => w.socket.destroy());
    await waitFor(() => r.server['server'].pendingCount === 0, 'slots freed');

    const quiet = await rawTls(r.port, identity(2));
    quiet.send({ type: 'transfer', transferId: 'quiet' });
    quiet.socket.write(Buffer.concat([Buffer.from([0, 0, 0, 4, 1, 2]), Buffer.alloc(4)]));
    await quiet.closed;
    assert.equal(quiet.errorCode(), 'NVID_ERR_TIMEOUT');
  });
});
