import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { NvidError, isNvidError } from '../../../core/errors.js';
import type { DeliveryReceipt, Identity } from '../../../core/types.js';
import { BULK_HEAD_BYTES, BULK_MAGIC, encodeBulkPreamble, envelopeHeadHash, type BulkChannelMode } from '../../../plugins/transport/transfer/bulk-channel.js';
import { DEFAULT_LIMITS, type Frame } from '../../../plugins/transport/wire/frame-codec.js';
import type { RejectInfo } from '../../../plugins/transport/wire/guarded-tls-server.js';
import { deliverEnvelope } from '../../../plugins/transport/transfer/transfer-client.js';
import { TransferServer, type IncomingEnvelope } from '../../../plugins/transport/transfer/transfer-server.js';
import { MemoryPeers, digest, identity, peerOf, silentLog, waitFor } from './helpers.js';
import { rawTcp, rawTls, type RawPeer } from './raw-peer.js';

type Receive = (incoming: IncomingEnvelope) => Promise<DeliveryReceipt>;

/** The first message of `type` a raw peer received, once it arrived. */
async function messageOf(peer: RawPeer, type: string): Promise<Record<string, unknown>> {
  const frame = await waitFor(() => peer.frames.find((f): f is Extract<Frame, { kind: 'message' }> => f.kind === 'message' && f.message.type === type), `a ${type} message`);
  return frame.message;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The `head` a sender announces for an envelope that starts with `bytes` and is `announced` bytes long. */
const headOf = (bytes: Buffer, announced = bytes.length) => envelopeHeadHash(bytes.subarray(0, Math.min(announced, BULK_HEAD_BYTES)));

describe('transport bulk channel', function () {
  this.timeout(60_000);
  const servers: TransferServer[] = [];
  before(() => [0, 1, 2].forEach(identity));
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });

  /** A receiving node that admits identity(2) and records how each receive pipeline ended. */
  async function receiver(extra: { authTimeoutMs?: number; maxUnauthenticated?: number; bulkTokenTtlMs?: number; bulkChannel?: BulkChannelMode; receive?: Receive } = {}) {
    const me = identity(1);
    const peers = new MemoryPeers();
    peers.upsert(peerOf(identity(2), 'sender'));
    const rejects: RejectInfo[] = [];
    const outcomes: Array<DeliveryReceipt | NvidError> = [];
    const receive: Receive =
      extra.receive ??
      (async ({ envelope, transferId }) => {
        const { sha256: hash } = await digest(envelope);
        return { transferId, receiverId: me.id, sha256: hash, storedAs: `${transferId}.bin` };
      });
    const server = new TransferServer({
      identity: me,
      host: '127.0.0.1',
      port: 0,
      authTimeoutMs: extra.authTimeoutMs ?? 3000,
      maxUnauthenticated: extra.maxUnauthenticated ?? 16,
      idleTimeoutMs: 5000,
      maxActiveTransfers: 8,
      maxActiveTransfersPerPeer: 8,
      bodyRate: { minBytesPerSecond: 0, windowMs: 30_000 },
      limits: DEFAULT_LIMITS,
      log: silentLog,
      onReject: (info) => rejects.push(info),
      lookupPeer: (id) => peers.get(id),
      bulkChannel: extra.bulkChannel ?? 'tcp',
      ...(extra.bulkTokenTtlMs ? { bulkTokenTtlMs: extra.bulkTokenTtlMs } : {}),
      receive: (incoming) =>
        receive(incoming).then(
          (receipt) => {
            outcomes.push(receipt);
            return receipt;
          },
          (err: NvidError) => {
            outcomes.push(err);
            throw err;
          },
        ),
    });
    servers.push(server);
    const port = await server.listen();
    return { server, port, rejects, outcomes };
  }

  /** An admitted sender's TLS session that offered the bulk channel for `length` bytes starting with `head`'s bytes, with the token it was given. */
  async function offer(port: number, length: number, head: string, transferId = `bulk-${Math.random()}`) {
    const tls = await rawTls(port, identity(2));
    tls.send({ type: 'transfer', transferId, bulk: { length, head } });
    const token = String((await messageOf(tls, 'bulk')).token);
    return { tls, token, transferId };
  }

  /** A plain connection that presents `token` and then writes `body` (and ends, unless told not to). */
  async function bulkConnection(port: number, token: string, body: Buffer, end = true): Promise<RawPeer> {
    const raw = await rawTcp(port);
    const bytes = Buffer.concat([encodeBulkPreamble(token), body]);
    if (end) raw.socket.end(bytes);
    else raw.socket.write(bytes);
    return raw;
  }

  function send(from: Identity, port: number, stream: Readable, length: number | undefined, bulkChannel: BulkChannelMode) {
    return deliverEnvelope({
      identity: from,
      peer: peerOf(identity(1), 'receiver', port),
      transferId: `t-${Math.random()}`,
      envelope: stream,
      ...(length !== undefined ? { length } : {}),
      bulkChannel,
      connectTimeoutMs: 5000,
      ackTimeoutMs: 10_000,
      limits: DEFAULT_LIMITS,
    });
  }

  it('takes the body on a connection that presents its token, once: a replay is refused and tokens do not pile up', async () => {
    const r = await receiver({ bulkTokenTtlMs: 300 });
    const body = randomBytes(3 * 1024 * 1024 + 17);
    const { tls, token, transferId } = await offer(r.port, body.length, headOf(body));
    assert.match(token, /^[0-9a-f]{64}$/);
    const bulk = await bulkConnection(r.port, token, body);
    const ack = await messageOf(tls, 'ack');
    assert.equal(ack.transferId, transferId);
    assert.equal(ack.sha256, sha256(body));
    await bulk.closed;
    assert.deepEqual(bulk.frames, [], 'nothing but the envelope travels on the bulk connection');

    const replay = await bulkConnection(r.port, token, body, false);
    await replay.closed;
    assert.ok(r.rejects.some((x) => x.code === 'NVID_ERR_UNTRUSTED_PEER' && x.reason.includes('already used')), 'the replay is recorded');
    assert.deepEqual(r.server.bodiesReceived, { bulk: 1, tls: 0 });
    await waitFor(() => r.server.bulkTokenCount === 0, 'the used token forgotten after its lifetime');
  });

  it('closes a bulk connection with a wrong or expired token at once; the waiting transfer fails over TLS when its token expires', async () => {
    const r = await receiver({ bulkTokenTtlMs: 400 });
    const { tls, token } = await offer(r.port, 1024, headOf(Buffer.alloc(1024)));
    const wrong = await bulkConnection(r.port, randomBytes(32).toString('hex'), Buffer.alloc(1024), false);
    await wrong.closed;
    assert.ok(r.rejects.some((x) => x.code === 'NVID_ERR_UNTRUSTED_PEER' && x.reason.includes('unknown or expired')));
    assert.equal(tls.isClosed(), false, 'a wrong token does not break the transfer it did not belong to');

    await tls.closed;
    assert.equal(tls.errorCode(), 'NVID_ERR_TIMEOUT');
    await waitFor(() => r.outcomes.length === 1, 'the receive pipeline ended');
    assert.ok(isNvidError(r.outcomes[0], 'NVID_ERR_TIMEOUT'), 'the body failed with the expiry');

    const late = await bulkConnection(r.port, token, Buffer.alloc(1024), false);
    await late.closed;
    assert.equal(r.rejects.filter((x) => x.reason.includes('unknown or expired')).length, 2, 'the expired token is refused too');
  });

  it('drops a bulk connection that never presents its token after authTimeoutMs; such connections count toward the unauthenticated cap', async () => {
    const r = await receiver({ authTimeoutMs: 1000, maxUnauthenticated: 2 });
    const silent = await rawTcp(r.port);
    silent.socket.write(BULK_MAGIC.subarray(0, 2)); // looks like a bulk connection, then nothing
    const partial = await rawTcp(r.port);
    partial.socket.write(Buffer.concat([BULK_MAGIC, randomBytes(8)])); // a third of a token
    await waitFor(() => r.server['server'].pendingCount === 2, 'two pending');
    const third = await rawTcp(r.port);
    await third.closed;
    assert.equal(silent.isClosed() || partial.isClosed(), false, 'the cap drops the newcomer, not the waiting ones');
    await Promise.all([silent.closed, partial.closed]);
    assert.equal(r.rejects.filter((x) => x.code === 'NVID_ERR_TIMEOUT' && x.reason.includes('did not authenticate within 1000 ms')).length, 2);
    await waitFor(() => r.server['server'].pendingCount === 0, 'their slots freed');
  });

  for (const [what, extra, end, codes] of [
    ['more', 10, true, ['NVID_ERR_TRAILING_DATA']],
    ['fewer', -100, true, ['NVID_ERR_TRUNCATED']],
    // Whether a reset surfaces as a reset or as an early end depends on when the kernel sees it: either is an early close.
    ['fewer (then a reset)', -100, false, ['NVID_ERR_CONNECTION', 'NVID_ERR_TRUNCATED']],
  ] as const) {
    it(`fails a bulk body with ${what} bytes than announced with ${codes.join(' or ')}, acknowledging nothing`, async () => {
      const r = await receiver();
      const announced = 256 * 1024;
      const bytes = randomBytes(announced + extra);
      const { tls, token } = await offer(r.port, announced, headOf(bytes, announced));
      const bulk = await bulkConnection(r.port, token, bytes, end);
      if (!end) {
        await waitFor(() => r.outcomes.length > 0 || bulk.socket.bytesWritten >= announced + extra + 36, 'the body written');
        bulk.socket.resetAndDestroy();
      }
      await tls.closed;
      const code = tls.errorCode();
      assert.ok((codes as readonly string[]).includes(code ?? ''), `the sender was told ${code}`);
      assert.equal(tls.frames.some((f) => f.kind === 'message' && f.message.type === 'ack'), false);
      assert.equal(r.outcomes.length, 1);
      assert.ok(isNvidError(r.outcomes[0]) && r.outcomes[0].code === code, `the receive pipeline failed with ${code}`);
    });
  }

  it('refuses a bulk connection whose first bytes are not the envelope announced over TLS, before the pipeline sees a byte', async () => {
    const seen: number[] = [];
    const r = await receiver({
      receive: async ({ envelope, transferId }) => {
        let bytes = 0;
        envelope.on('data', (chunk: Buffer) => (bytes += chunk.length));
        await digest(envelope).finally(() => seen.push(bytes));
        return { transferId, receiverId: identity(1).id, sha256: '0'.repeat(64), storedAs: 'x' };
      },
    });
    const announcedEnvelope = randomBytes(200 * 1024);
    const otherEnvelope = Buffer.from(announcedEnvelope);
    otherEnvelope[100] = otherEnvelope[100]! ^ 1; // one flipped bit inside the bound head
    const { tls, token } = await offer(r.port, announcedEnvelope.length, headOf(announcedEnvelope));
    const bulk = await bulkConnection(r.port, token, otherEnvelope);
    await Promise.all([tls.closed, bulk.closed]);
    assert.equal(tls.errorCode(), 'NVID_ERR_UNTRUSTED_PEER');
    assert.ok(r.rejects.some((x) => x.code === 'NVID_ERR_UNTRUSTED_PEER' && x.reason.includes('does not carry the envelope')));
    await waitFor(() => seen.length === 1, 'the receive pipeline ended');
    assert.deepEqual(seen, [0], 'not a byte of the substituted envelope reached the pipeline');
  });

  it('closes only the offending connections on garbage and slow-loris on the bulk path while a bulk transfer completes', async () => {
    const r = await receiver({ authTimeoutMs: 500 });
    const body = randomBytes(16 * 1024 * 1024);
    const delivery = send(identity(2), r.port, Readable.from([body]), body.length, 'tcp');
    const garbage = await rawTcp(r.port);
    garbage.socket.write(Buffer.from('NVX1 not a bulk connection'));
    const loris = await rawTcp(r.port);
    loris.socket.write(Buffer.concat([BULK_MAGIC, Buffer.alloc(10)]));
    const zeros = await bulkConnection(r.port, '00'.repeat(32), Buffer.alloc(4096), false);
    await Promise.all([garbage.closed, loris.closed, zeros.closed]);
    const receipt = await delivery;
    assert.equal(receipt.sha256, sha256(body));
    const codes = r.rejects.map((x) => x.code);
    for (const code of ['NVID_ERR_BAD_FRAME', 'NVID_ERR_TIMEOUT', 'NVID_ERR_UNTRUSTED_PEER'] as const) assert.ok(codes.includes(code), `recorded ${code}`);
    assert.deepEqual(r.server.bodiesReceived, { bulk: 1, tls: 0 });
  });

  it('fails on the sender when its envelope does not match the announced length, and the receiver drops it', async () => {
    const r = await receiver();
    // Long enough that the hashed head is there either way, so both offers reach the receiver.
    const envelope = randomBytes(100 * 1024);
    for (const announced of [90 * 1024, 120 * 1024]) {
      const err = await send(identity(2), r.port, Readable.from([envelope.subarray(0, 4096), envelope.subarray(4096)]), announced, 'tcp').then(() => undefined, (e: unknown) => e);
      assert.ok(isNvidError(err, 'NVID_ERR_DELIVERY'), `announced ${announced}, sent ${envelope.length}`);
    }
    await waitFor(() => r.outcomes.length === 2, 'both receive pipelines ended');
    assert.ok(r.outcomes.every((o) => o instanceof NvidError));
  });

  it('falls back to data frames inside TLS when either side keeps bodies in TLS', async () => {
    const tlsReceiver = await receiver({ bulkChannel: 'tls' });
    const bulkReceiver = await receiver({ bulkChannel: 'tcp' });
    const body = randomBytes(2 * 1024 * 1024 + 3);
    const viaDeclined = await send(identity(2), tlsReceiver.port, Readable.from([body]), body.length, 'tcp');
    const viaSender = await send(identity(2), bulkReceiver.port, Readable.from([body]), body.length, 'tls');
    assert.equal(viaDeclined.sha256, sha256(body));
    assert.equal(viaSender.sha256, sha256(body));
    assert.deepEqual(tlsReceiver.server.bodiesReceived, { bulk: 0, tls: 1 });
    assert.deepEqual(bulkReceiver.server.bodiesReceived, { bulk: 0, tls: 1 });
    // A receiver that keeps bodies in TLS does not take plain connections at all.
    const plain = await bulkConnection(tlsReceiver.port, '00'.repeat(32), Buffer.alloc(16), false);
    await plain.closed;
  });
});
