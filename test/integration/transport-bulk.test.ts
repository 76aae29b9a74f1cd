/**
 * The bulk channel between real nvid processes: which channel a body takes
 * with each setting, and that a bulk connection carrying a real, validly
 * sealed envelope with more or fewer bytes than announced leaves no file.
 */
import { fromWirePeer, type WirePeer } from '../../plugins/transport/wire/wire-peer.js';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createIdentity } from '../../core/identity.js';
import type { HistoryEntry, Identity, Peer } from '../../core/types.js';
import { sealFile } from '../../plugins/crypto/seal.js';
import { BULK_HEAD_BYTES, encodeBulkPreamble, envelopeHeadHash } from '../../plugins/transport/transfer/bulk-channel.js';
import { Cluster } from '../helpers/cluster.js';
import { testPatternPng } from '../helpers/media-fixtures.js';
import { removeDir, tempDir, waitFor } from '../helpers/nvid.js';
import { joinAsNode, rawTcp, rawTls, type RawPeer } from '../unit/transport/raw-peer.js';

interface Status {
  id: string;
  transport: { transferPort: number; bulkChannel: string; bodiesReceived: { bulk: number; tls: number } };
}

describe('bulk channel between real nvid processes', function () {
  this.timeout(180_000);
  let dir: string;
  let cluster: Cluster;
  let picture: string;
  const statusOf = (name: string) => cluster.node(name).control<Status>('status');
  const libraryOf = (name: string) => {
    const library = join(cluster.node(name).stateDir, 'library');
    return existsSync(library) ? readdirSync(library) : [];
  };

  before(async () => {
    dir = tempDir();
    cluster = new Cluster(dir);
    await cluster.startCoordinator({ authTimeoutMs: 2000 });
    await cluster.startNode({ name: 'alpha' });
    await cluster.startNode({ name: 'beta' });
    await cluster.startNode({ name: 'gamma', transport: { bulkChannel: 'tls' } });
    for (const name of ['alpha', 'beta']) await cluster.waitForPeers(name, ['alpha', 'beta', 'gamma'].filter((n) => n !== name));
    picture = await testPatternPng(dir, 'pattern.png', '640x480');
  });
  after(async () => {
    await cluster.stop();
    removeDir(dir);
  });

  it('carries the body on the bulk channel between default nodes, and inside TLS to and from a node set to tls', async () => {
    const before = { beta: (await statusOf('beta')).transport.bodiesReceived, gamma: (await statusOf('gamma')).transport.bodiesReceived };
    for (const [from, to] of [['alpha', 'beta'], ['alpha', 'gamma'], ['gamma', 'beta']] as const) {
      const sent = await cluster.node(from).cli(['send', picture, '--to', to, '--json']);
      assert.equal(sent.code, 0, `${from} -> ${to}: ${sent.stderr}`);
    }
    const beta = (await statusOf('beta')).transport;
    const gamma = (await statusOf('gamma')).transport;
    assert.equal(beta.bulkChannel, 'tcp');
    assert.equal(gamma.bulkChannel, 'tls');
    assert.deepEqual(beta.bodiesReceived, { bulk: before.beta.bulk + 1, tls: before.beta.tls + 1 }, 'alpha used the bulk channel, gamma kept its body in TLS');
    assert.deepEqual(gamma.bodiesReceived, { bulk: before.gamma.bulk, tls: before.gamma.tls + 1 }, 'gamma declined the bulk channel');
  });

  it('stores nothing from a bulk connection with more or fewer bytes than announced (the exact length is stored)', async () => {
    // An admitted peer that speaks the protocol by hand, with a real identity and real sealed envelopes.
    const mallory: Identity = createIdentity('mallory');
    const { session, leave } = await joinAsNode(cluster.coordinatorPort, mallory, 'mallory');
    try {
      await cluster.waitForPeers('alpha', ['beta', 'gamma', 'mallory']);
      // Alpha as the coordinator lists it to every node, and its certificate as the coordinator hands it out.
      const wire = session.frames.flatMap((f) => (f.kind === 'message' && f.message.type === 'peers' ? (f.message.peers as WirePeer[]) : []));
      assert.ok(wire.length > 0 && wire.every((p) => p.length <= 5 && !JSON.stringify(p).includes('CERTIFICATE')), 'lists carry no certificates');
      const entry = wire.map(fromWirePeer).find((p) => p.name === 'alpha')!;
      assert.ok(entry, 'the coordinator listed alpha');
      session.send({ type: 'certificate-request', requestId: 7, id: entry.id });
      await waitFor(() => session.frames.some((f) => f.kind === 'message' && f.message.type === 'certificate'), 'the coordinator sent alpha\'s certificate');
      const answer = session.frames.find((f) => f.kind === 'message' && f.message.type === 'certificate')!;
      const alpha = { ...entry, certPem: String((answer as unknown as { message: { certPem: string } }).message.certPem) };
      const port = (await statusOf('alpha')).transport.transferPort;
      const size = statSync(picture).size;

      /** A fresh envelope from mallory to alpha (a fresh transfer ID each, so the replay guard stays out of it). */
      const envelope = async (): Promise<Buffer> => {
        const meta = { transferId: randomUUID(), senderId: mallory.id, receiverId: alpha.id, time: Date.now(), size, mediaType: 'image' as const, fileName: 'from-mallory.png' };
        const sealed = await sealFile(picture, { recipient: alpha, sender: mallory, meta, chunkSize: 64 * 1024 });
        const parts: Buffer[] = [];
        for await (const chunk of sealed.stream) parts.push(chunk as Buffer);
        const bytes = Buffer.concat(parts);
        assert.equal(bytes.length, sealed.length);
        return bytes;
      };
      /** Offers `announced` bytes over TLS, then sends `bytes` on the bulk connection and ends it; resolves with the TLS peer once closed. */
      const attempt = async (announced: number, bytes: Buffer): Promise<RawPeer> => {
        const tls = await rawTls(port, mallory);
        tls.send({ type: 'transfer', transferId: randomUUID(), bulk: { length: announced, head: envelopeHeadHash(bytes.subarray(0, Math.min(announced, BULK_HEAD_BYTES))) } });
        const bulk = await waitFor(() => tls.frames.find((f) => f.kind === 'message' && f.message.type === 'bulk'), 'the bulk token');
        const token = bulk.kind === 'message' ? String(bulk.message.token) : '';
        const raw = await rawTcp(port);
        raw.socket.end(Buffer.concat([encodeBulkPreamble(token), bytes]));
        await tls.closed;
        return tls;
      };
      const receivedFromMallory = async () => (await cluster.node('alpha').control<HistoryEntry[]>('history')).filter((e) => e.kind === 'received' && e.from === mallory.id).length;
      const libraryBefore = libraryOf('alpha').length;

      const longer = await envelope();
      const tooLong = await attempt(longer.length, Buffer.concat([longer, randomBytes(16)]));
      assert.equal(tooLong.errorCode(), 'NVID_ERR_TRAILING_DATA');

      const shorter = await envelope();
      const tooShort = await attempt(shorter.length + 16, shorter);
      assert.equal(tooShort.errorCode(), 'NVID_ERR_TRUNCATED');

      assert.equal(libraryOf('alpha').length, libraryBefore, 'no file kept');
      assert.equal(await receivedFromMallory(), 0);
      const recorded = (await cluster.node('alpha').control<HistoryEntry[]>('history')).filter((e) => e.kind === 'rejected' && e.stage === 'transport').map((e) => e.code);
      for (const code of ['NVID_ERR_TRAILING_DATA', 'NVID_ERR_TRUNCATED']) assert.ok(recorded.includes(code), `alpha recorded ${code}`);

      // The same route with the exact length delivers, so the refusals above are the lengths' doing.
      const exact = await envelope();
      const good = await attempt(exact.length, exact);
      assert.equal(good.errorCode(), undefined);
      assert.ok(good.frames.some((f) => f.kind === 'message' && f.message.type === 'ack'));
      assert.equal(libraryOf('alpha').length, libraryBefore + 1);
      assert.equal(await receivedFromMallory(), 1);
    } finally {
      leave();
    }
  });
});
