/**
 * The outbox: envelopes sealed for a send that may have to be resumed.
 *
 * A resumable send (a group send, or one large file) seals the file once, to
 * `outbox/<transferId>.envelope`, with a record beside it naming the file it
 * came from (path, size, modification time) and its recipients. When the
 * send fails for some recipient (a link dropped, the sender was killed), the
 * envelope stays; the next send of the same, unchanged file to recipients the
 * envelope lists finds it here and delivers those very bytes again, so the
 * recipients go on from the pieces they hold. Nothing is encrypted twice:
 * resuming never reuses a nonce, because it never seals again. A changed
 * file (other size or time) is sealed afresh. Entries older than
 * `resumeMaxAgeMs` go (the receivers refuse envelopes past their replay
 * window anyway), as do entries whose every recipient got the file.
 */
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TransferMeta } from '../types.js';

export interface OutboxEntry {
  readonly transferId: string;
  /** The file the envelope was sealed from, as it was then. */
  readonly source: { readonly path: string; readonly size: number; readonly mtimeMs: number };
  readonly meta: TransferMeta;
  readonly length: number;
  readonly created: number;
}

export function envelopeFile(outboxDir: string, transferId: string): string {
  return join(outboxDir, `${transferId}.envelope`);
}

function recordFile(outboxDir: string, transferId: string): string {
  return join(outboxDir, `${transferId}.json`);
}

export function saveEntry(outboxDir: string, entry: OutboxEntry): void {
  writeFileSync(recordFile(outboxDir, entry.transferId), JSON.stringify(entry), { mode: 0o600 });
}

export function removeEntry(outboxDir: string, transferId: string): void {
  rmSync(recordFile(outboxDir, transferId), { force: true });
  rmSync(envelopeFile(outboxDir, transferId), { force: true });
}

/** The newest entry that can carry `path` (unchanged since) to every one of `recipientIds`, if any. */
export function findResumable(outboxDir: string, path: string, recipientIds: readonly string[], maxAgeMs: number): OutboxEntry | undefined {
  let now: { size: number; mtimeMs: number };
  try {
    now = statSync(path);
  } catch {
    return undefined;
  }
  let best: OutboxEntry | undefined;
  for (const entry of entries(outboxDir)) {
    if (Date.now() - entry.created > maxAgeMs) continue;
    const { source, meta } = entry;
    if (source.path !== path || source.size !== now.size || source.mtimeMs !== now.mtimeMs) continue;
    const listed = meta.recipientIds ?? [meta.receiverId];
    if (!recipientIds.every((id) => listed.includes(id))) continue;
    try {
      if (statSync(envelopeFile(outboxDir, entry.transferId)).size !== entry.length) continue;
    } catch {
      continue;
    }
    if (!best || entry.created > best.created) best = entry;
  }
  return best;
}

/** Removes entries past `maxAgeMs`, broken records, and envelopes with no record (a seal cut short). */
export function sweepOutbox(outboxDir: string, maxAgeMs: number): number {
  let removed = 0;
  const kept = new Set<string>();
  for (const entry of entries(outboxDir)) {
    if (Date.now() - entry.created > maxAgeMs) {
      removeEntry(outboxDir, entry.transferId);
      removed++;
    } else {
      kept.add(entry.transferId);
    }
  }
  for (const name of safeList(outboxDir)) {
    const id = name.replace(/\.(envelope|json)$/, '');
    if (kept.has(id)) continue;
    // A record that did not parse, or an envelope whose seal never finished (no record yet).
    const age = Date.now() - (safeStat(join(outboxDir, name))?.mtimeMs ?? 0);
    if (age > 60_000) {
      rmSync(join(outboxDir, name), { force: true });
      removed++;
    }
  }
  return removed;
}

function entries(outboxDir: string): OutboxEntry[] {
  const out: OutboxEntry[] = [];
  for (const name of safeList(outboxDir)) {
    if (!name.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(readFileSync(join(outboxDir, name), 'utf8')) as OutboxEntry);
    } catch {
      // a torn record: the sweep removes it
    }
  }
  return out;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function safeStat(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
