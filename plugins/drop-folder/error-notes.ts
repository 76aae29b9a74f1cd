/**
 * The note kept next to a file that could not be delivered
 * (`photo.jpg` -> `photo.jpg.nvid-error.txt`), so the reason is visible where
 * the user dropped the file. Written atomically (a hidden temporary name,
 * then rename), removed once the file is delivered or gone.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ERROR_NOTE_SUFFIX } from './ignore-rules.js';

/** Why one target did not get the file. */
export interface TargetFailure {
  /** The target as configured (peer name or ID prefix). */
  readonly target: string;
  readonly code: string;
  readonly message: string;
}

/** What a note says. */
export interface ErrorNote {
  readonly file: string;
  readonly failures: readonly TargetFailure[];
  readonly time: Date;
  /** When it will be tried again; `undefined` = not until the file changes. */
  readonly nextRetry: Date | undefined;
  readonly attempts: number;
  /** Targets that already acknowledged the file. */
  readonly delivered: readonly string[];
}

/** The note's path for a file. */
export function notePathFor(file: string): string {
  return `${file}${ERROR_NOTE_SUFFIX}`;
}

/** The note's text: one `key: value` line per fact, so people and scripts can both read it. */
export function formatNote(note: ErrorNote): string {
  const lines = [
    `nvid could not deliver ${basename(note.file)}; it stays here until it is delivered.`,
    '',
    ...note.failures.flatMap((f) => [`target: ${f.target}`, `code: ${f.code}`, `message: ${f.message.replace(/\s*\n\s*/g, ' ')}`, '']),
    `time: ${note.time.toISOString()}`,
    `attempts: ${note.attempts}`,
    `next retry: ${note.nextRetry ? note.nextRetry.toISOString() : 'not until the file changes (edit, replace or touch it to try again)'}`,
  ];
  if (note.delivered.length > 0) lines.push(`already delivered to: ${note.delivered.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/** Writes (or replaces) the note next to `note.file`. */
export function writeNote(note: ErrorNote): string {
  const target = notePathFor(note.file);
  // Hidden temporary name in the same folder: ignored by the watcher, and rename() is atomic there.
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}`);
  writeFileSync(tmp, formatNote(note), { mode: 0o644 });
  try {
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return target;
}

/** Removes the note next to `file`, if any. */
export function removeNote(file: string): void {
  rmSync(notePathFor(file), { force: true });
}

/** The codes a note names (for tests and tools); empty when there is no note. */
export function readNoteCodes(file: string): string[] {
  try {
    return [...readFileSync(notePathFor(file), 'utf8').matchAll(/^code: (\S+)$/gm)].map((m) => m[1]!);
  } catch {
    return [];
  }
}
