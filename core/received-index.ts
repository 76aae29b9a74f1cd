/**
 * Which content each sender has already delivered here, so a resend after a
 * lost acknowledgement (receiver stopped between storing and acking) is
 * acknowledged with the copy already kept instead of stored twice.
 * Append-only JSON lines in the state folder; a torn last line is skipped.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export class ReceivedIndex {
  readonly #file: string;
  readonly #libraryDir: string;
  readonly #entries = new Map<string, string>();

  constructor(file: string, libraryDir: string) {
    this.#file = file;
    this.#libraryDir = libraryDir;
    if (!existsSync(file)) return;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      try {
        const { senderId, sha256, storedAs } = JSON.parse(line) as Record<string, string>;
        if (senderId && sha256 && storedAs) this.#entries.set(`${senderId}:${sha256}`, storedAs);
      } catch {
        // torn or empty line
      }
    }
  }

  /** The library path of a copy of this content from this sender, if it is still there. */
  find(senderId: string, sha256: string): string | undefined {
    const storedAs = this.#entries.get(`${senderId}:${sha256}`);
    if (!storedAs) return undefined;
    const path = join(this.#libraryDir, storedAs);
    return existsSync(path) ? path : undefined;
  }

  record(senderId: string, sha256: string, storedAs: string): void {
    this.#entries.set(`${senderId}:${sha256}`, storedAs);
    appendFileSync(this.#file, `${JSON.stringify({ senderId, sha256, storedAs })}\n`, { mode: 0o600 });
  }
}
