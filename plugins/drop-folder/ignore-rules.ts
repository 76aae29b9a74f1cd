/**
 * Which paths in the drop folder are not files to send: hidden names,
 * temporary and partial downloads, editor swap files, our own error notes,
 * and the sent folder. Pure functions over path strings.
 */
import { relative, sep } from 'node:path';

/** Suffix of the note written next to a file that failed. */
export const ERROR_NOTE_SUFFIX = '.nvid-error.txt';

/**
 * Name patterns that mean "still being written" or "not the user's file":
 * browsers (`.crdownload`, `.part`, `.download`, `.partial`), rsync/curl/wget
 * temporaries, Office lock files (`~$x.docx`), editor swaps and backups.
 */
export const BUILTIN_IGNORED_PATTERNS: readonly string[] = [
  '*.tmp',
  '*.temp',
  '*.part',
  '*.partial',
  '*.crdownload',
  '*.download',
  '*.opdownload',
  '*.!ut',
  '*.swp',
  '*.swx',
  '*~',
  '~$*',
  '#*#',
  `*${ERROR_NOTE_SUFFIX}`,
  'Thumbs.db',
  'desktop.ini',
];

/** `*` = any run of characters, `?` = one character; everything else literal; whole name, case-insensitive. */
export function patternToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** Decides what the watcher skips. */
export class IgnoreRules {
  readonly #folder: string;
  readonly #sentFolder: string;
  readonly #patterns: RegExp[];

  /**
   * @param folder the watched folder (absolute)
   * @param sentFolder the sent folder (absolute); ignored when it lies inside `folder`
   * @param extraPatterns user patterns, added to the built-in ones
   */
  constructor(folder: string, sentFolder: string, extraPatterns: readonly string[] = []) {
    this.#folder = folder;
    this.#sentFolder = sentFolder;
    this.#patterns = [...BUILTIN_IGNORED_PATTERNS, ...extraPatterns].map(patternToRegExp);
  }

  /** Whether one file or folder name (no separators) is ignored by name alone. */
  isIgnoredName(name: string): boolean {
    if (name.startsWith('.')) return true;
    return this.#patterns.some((re) => re.test(name));
  }

  /** Whether an absolute path is skipped: outside the folder, inside the sent folder, or any part of it ignored by name. */
  isIgnoredPath(path: string): boolean {
    if (path === this.#folder) return false;
    if (path === this.#sentFolder || path.startsWith(this.#sentFolder + sep)) return true;
    const rel = relative(this.#folder, path);
    if (rel === '' || rel.startsWith('..')) return true;
    return rel.split(sep).some((part) => this.isIgnoredName(part));
  }
}
