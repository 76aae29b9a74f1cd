/**
 * The ledger of acknowledged deliveries: which content (SHA-256) reached
 * which peer (ID). It lives in the state folder as an append-only JSON-lines
 * file, each line written and fsynced before the file it records is moved
 * away, so a restart never sends the same content to the same peer again.
 * A torn last line (power loss mid-append) is skipped on load.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** One acknowledged delivery. */
export interface LedgerEntry {
  readonly sha256: string;
  /** The receiving peer's ID (certificate fingerprint): a name is only a label. */
  readonly peerId: string;
  readonly peerName: string;
  /** The file's path relative to the drop folder when it was sent. */
  readonly file: string;
  readonly transferId: string;
  /** ISO time of the acknowledgement. */
  readonly time: string;
}

const SHA256 = /^[0-9a-f]{64}$/;

function parseLine(line: string): LedgerEntry | undefined {
  try {
    const value = JSON.parse(line) as Partial<LedgerEntry>;
    if (typeof value.sha256 === 'string' && SHA256.test(value.sha256) && typeof value.peerId === 'string' && value.peerId.length > 0) {
      return {
        sha256: value.sha256,
        peerId: value.peerId,
        peerName: String(value.peerName ?? ''),
        file: String(value.file ?? ''),
        transferId: String(value.transferId ?? ''),
        time: String(value.time ?? ''),
      };
    }
  } catch {
    // a torn line from a crash mid-append: the delivery it would record is retried, which is the documented limit
  }
  return undefined;
}

/** Content-to-peer deliveries, loaded once and appended to. */
export class DeliveryLedger {
  readonly file: string;
  readonly #delivered = new Map<string, Set<string>>();
  #fd: number | undefined;
  #entries = 0;
  #skipped = 0;
  /** The file ends in a torn line: the next record must start on a line of its own. */
  #torn = false;

  /** Loads `file` if it exists; nothing is created until the first record. */
  constructor(file: string) {
    this.file = file;
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.#torn = text.length > 0 && !text.endsWith('\n');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const entry = parseLine(line);
      if (entry) this.#remember(entry);
      else this.#skipped++;
    }
  }

  #remember(entry: LedgerEntry): void {
    let peers = this.#delivered.get(entry.sha256);
    if (!peers) this.#delivered.set(entry.sha256, (peers = new Set()));
    peers.add(entry.peerId);
    this.#entries++;
  }

  /** Whether this content was acknowledged by this peer. */
  has(sha256: string, peerId: string): boolean {
    return this.#delivered.get(sha256)?.has(peerId) ?? false;
  }

  /** Appends one delivery and waits for it to reach the disk. */
  record(entry: LedgerEntry): void {
    if (this.#fd === undefined) {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      this.#fd = openSync(this.file, 'a', 0o600);
    }
    // One write of one line: O_APPEND keeps it whole; fsync makes it survive a power loss before the file moves.
    writeSync(this.#fd, `${this.#torn ? '\n' : ''}${JSON.stringify(entry)}\n`);
    this.#torn = false;
    fsyncSync(this.#fd);
    this.#remember(entry);
  }

  /** Entries loaded and recorded; unreadable lines skipped at load. */
  get size(): { entries: number; skipped: number } {
    return { entries: this.#entries, skipped: this.#skipped };
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
