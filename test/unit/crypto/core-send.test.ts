/**
 * The core's send API, end to end inside one process: the real crypto plugin
 * seals, a deliver tap hands the envelope straight to a second node's receive
 * pipeline (what the transport does over a socket). The caller learns the
 * transfer at its start, follows its bytes, and can cancel it.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { receiveTransfer } from '../../../core/pipeline/receive.js';
import { sendFile } from '../../../core/pipeline/send-file.js';
import type { SendFailedEvent, SendProgress, SendStart } from '../../../core/types.js';
import { asPeer, patternBytes, testIdentities } from './helpers.js';
import { pipelineNode } from './pipeline-node.js';

describe('the send API: start, progress, cancel', function () {
  this.timeout(60_000);

  async function pair(pace: { delayMs: number }) {
    const { alice, bob } = testIdentities();
    const laptop = await pipelineNode(alice, 'laptop');
    const screen = await pipelineNode(bob, 'screen');
    laptop.peers.upsert(asPeer(bob, 'screen'));
    // The "transport": the envelope goes to the screen's receive pipeline, a chunk at a time at the given pace.
    laptop.hooks.deliver.tapPromise('loopback', async ({ envelope, onProgress }) => {
      const wire = new PassThrough();
      let sent = 0;
      void (async () => {
        try {
          for await (const chunk of envelope.stream) {
            sent += (chunk as Buffer).length;
            wire.write(chunk);
            onProgress?.(sent);
            await new Promise((r) => setTimeout(r, pace.delayMs));
          }
          wire.end();
        } catch (err) {
          wire.destroy(err as Error);
        }
      })();
      return receiveTransfer(screen.ctx, { sender: asPeer(alice, 'laptop'), envelope: wire });
    });
    const file = join(laptop.stateDir, 'photo.png');
    writeFileSync(file, patternBytes(2 * 1024 * 1024, 7));
    return { laptop, screen, file };
  }

  it('names the transfer before any byte moves, then reports bytes, rate and time left up to the whole envelope', async () => {
    const { laptop, file } = await pair({ delayMs: 1 });
    const seen: Array<{ kind: 'start'; start: SendStart } | { kind: 'progress'; progress: SendProgress }> = [];
    const result = await sendFile(laptop.ctx, file, 'screen', {
      onStart: (start) => seen.push({ kind: 'start', start }),
      onProgress: (progress) => seen.push({ kind: 'progress', progress }),
    });
    assert.equal(seen[0]?.kind, 'start');
    const start = (seen[0] as { start: SendStart }).start;
    assert.equal(start.transferId, result.transferId);
    assert.equal(start.size, 2 * 1024 * 1024);
    assert.ok(start.total > start.size, 'the envelope adds its header and chunk tags');
    assert.deepEqual(start.to, { id: result.to.id, name: 'screen' });
    const reports = seen.slice(1).map((s) => (s as { progress: SendProgress }).progress);
    assert.ok(reports.length >= 1);
    assert.equal(reports.at(-1)!.bytes, start.total);
    assert.ok(reports.every((p) => p.transferId === start.transferId && p.total === start.total));
    assert.ok(reports.at(-1)!.rate > 0);
  });

  it('cancels mid-body when the signal aborts: NVID_ERR_CANCELLED, the receiver keeps nothing, history and event say so', async () => {
    const { laptop, screen, file } = await pair({ delayMs: 20 });
    const failures: SendFailedEvent[] = [];
    laptop.hooks.sendFailed.tapPromise('test', async (event) => void failures.push(event));
    const cancel = new AbortController();
    let started: SendStart | undefined;
    const sending = sendFile(laptop.ctx, file, 'screen', { onStart: (s) => (started = s), onProgress: () => cancel.abort(), signal: cancel.signal });
    await assert.rejects(sending, { code: 'NVID_ERR_CANCELLED' });
    assert.ok(started);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(screen.kept(), [], 'no partial file, nothing in the library');
    const [entry] = await laptop.history.read({ kind: 'send-failed' });
    assert.equal(entry?.code, 'NVID_ERR_CANCELLED');
    assert.equal(entry?.transferId, started.transferId);
    assert.equal(failures[0]?.stage, 'deliver');
    assert.equal(failures[0]?.code, 'NVID_ERR_CANCELLED');
  });

  it('does nothing at all for a signal aborted before the send', async () => {
    const { laptop, file } = await pair({ delayMs: 0 });
    let started = false;
    await assert.rejects(sendFile(laptop.ctx, file, 'screen', { signal: AbortSignal.abort(), onStart: () => (started = true) }), { code: 'NVID_ERR_CANCELLED' });
    assert.equal(started, false);
    assert.deepEqual(laptop.validated, [], 'not even validated');
  });
});
