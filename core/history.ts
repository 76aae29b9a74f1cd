/**
 * The history log: one JSON object per line, appended, never rewritten, kept
 * in the state folder so it survives restarts. Appends are synchronous so the
 * order on disk is the order things happened, even if the process dies next.
 */
import { appendFileSync, createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { HistoryLog } from './plugin-api.js';
import type { HistoryEntry, HistoryKind } from './types.js';

export class JsonLinesHistory implements HistoryLog {
  readonly file: string;
  readonly #onError: (err: Error) => void;

  /** `onError` hears about a failed write (disk full, folder removed); appending itself never throws. */
  constructor(file: string, onError: (err: Error) => void = () => undefined) {
    this.file = file;
    this.#onError = onError;
  }

  append(kind: HistoryKind, fields: Record<string, unknown> = {}): void {
    // `time` and `kind` are the log's own: a field of the same name must not overwrite them.
    const { time: _time, kind: _kind, ...rest } = fields;
    const entry = { time: new Date().toISOString(), kind, ...rest };
    try {
      appendFileSync(this.file, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    } catch (err) {
      // Losing a log line must never take down a transfer or the daemon.
      this.#onError(err as Error);
    }
  }

  async read(options: { limit?: number; kind?: HistoryKind } = {}): Promise<HistoryEntry[]> {
    if (!existsSync(this.file)) return [];
    const entries: HistoryEntry[] = [];
    const lines = createInterface({ input: createReadStream(this.file, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.trim()) continue;
      let entry: HistoryEntry;
      try {
        entry = JSON.parse(line) as HistoryEntry;
      } catch {
        // A torn last line after a power cut must not hide the rest of the history.
        continue;
      }
      if (options.kind && entry.kind !== options.kind) continue;
      entries.push(entry);
      if (options.limit && entries.length > options.limit * 2) entries.splice(0, entries.length - options.limit);
    }
    return options.limit ? entries.slice(-options.limit) : entries;
  }
}
