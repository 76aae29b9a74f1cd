/**
 * The outbox: which sealed envelope a retry may deliver again (the same,
 * unchanged file, to recipients the envelope lists, young enough), and what
 * the sweep removes.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envelopeFile, findResumable, removeEntry, saveEntry, sweepOutbox, type OutboxEntry } from '../../../core/pipeline/outbox.js';
import type { TransferMeta } from '../../../core/types.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const HOUR = 3_600_000;

describe('the outbox of resumable sends', () => {
  let dir: string;
  let outbox: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nvid-outbox-'));
    outbox = join(dir, 'outbox');
    file = join(dir, 'clip.mp4');
    writeFileSync(file, 'the media');
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    mkdirSync(outbox);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Seals (pretends to) `file` for `recipients`, `ageMs` ago. */
  const sealed = (transferId: string, recipients: string[], ageMs = 0, length = 100): OutboxEntry => {
    const meta: TransferMeta = { transferId, senderId: 'f'.repeat(64), receiverId: recipients[0]!, recipientIds: recipients, time: Date.now() - ageMs, size: 9, mediaType: 'video', fileName: 'clip.mp4' };
    const entry: OutboxEntry = { transferId, source: { path: file, size: 9, mtimeMs: 1_700_000_000_000 }, meta, length, created: Date.now() - ageMs };
    writeFileSync(envelopeFile(outbox, transferId), Buffer.alloc(length));
    saveEntry(outbox, entry);
    return entry;
  };

  it('finds the envelope of the same unchanged file for recipients it lists, the newest first', () => {
    sealed('older-0001', [A, B, C], 60_000);
    sealed('newer-0002', [A, B], 1_000);
    assert.equal(findResumable(outbox, file, [B, A], HOUR)?.transferId, 'newer-0002');
    assert.equal(findResumable(outbox, file, [C], HOUR)?.transferId, 'older-0001', 'a subset of an envelope\'s recipients');
    assert.equal(findResumable(outbox, file, [A, 'd'.repeat(64)], HOUR), undefined, 'a recipient no envelope lists');
  });

  it('does not resume a changed file, an old entry or a damaged envelope', () => {
    sealed('entry-0001', [A]);
    utimesSync(file, 1_700_000_001, 1_700_000_001);
    assert.equal(findResumable(outbox, file, [A], HOUR), undefined, 'the file was touched since');
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    assert.equal(findResumable(outbox, file, [A], 1_000)?.transferId, 'entry-0001');
    sealed('stale-0002', [B], 2 * HOUR);
    assert.equal(findResumable(outbox, file, [B], HOUR), undefined, 'past resumeMaxAgeMs');
    writeFileSync(envelopeFile(outbox, 'entry-0001'), 'short');
    assert.equal(findResumable(outbox, file, [A], HOUR), undefined, 'the envelope is not its recorded length');
  });

  it('sweeps entries past their age and envelopes left without a record, and keeps the rest', () => {
    sealed('young-0001', [A]);
    sealed('stale-0002', [B], 2 * HOUR);
    writeFileSync(envelopeFile(outbox, 'orphan-0003'), 'a seal that never finished');
    utimesSync(envelopeFile(outbox, 'orphan-0003'), new Date(Date.now() - HOUR), new Date(Date.now() - HOUR));
    assert.equal(sweepOutbox(outbox, HOUR), 2);
    assert.ok(existsSync(envelopeFile(outbox, 'young-0001')));
    assert.ok(!existsSync(envelopeFile(outbox, 'stale-0002')));
    assert.ok(!existsSync(envelopeFile(outbox, 'orphan-0003')));
    removeEntry(outbox, 'young-0001');
    assert.equal(findResumable(outbox, file, [A], HOUR), undefined);
  });
});
