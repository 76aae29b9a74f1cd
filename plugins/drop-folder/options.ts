/**
 * The drop-folder plugin's options: their JSON schema (validated by the core
 * with ajv, defaults filled in) and TypeScript shape, plus the resolution of
 * the folder paths the user wrote into absolute ones.
 */
import { isAbsolute, join, resolve } from 'node:path';

/** What happens to a file once every target acknowledged it. */
export type AfterSend = 'move' | 'delete';

/** Exponential backoff between retries of a failed send. */
export interface RetryOptions {
  /** Wait before the first retry. */
  readonly initialMs: number;
  /** Longest wait between two retries. */
  readonly maxMs: number;
  /** Each wait is the previous one times this. */
  readonly factor: number;
}

/** Options of the drop-folder plugin, after defaults (as written in the config file). */
export interface DropFolderOptions {
  /** The watched folder; absolute, or relative to the daemon's working directory. Created if missing. */
  readonly folder: string;
  /** Peers (names or ID prefixes) that files at the top of the folder go to; a subfolder named after a peer overrides it. */
  readonly to: readonly string[];
  /** `move` to the sent folder, or `delete`, once every target acknowledged. */
  readonly afterSend: AfterSend;
  /** Where delivered files go with `afterSend: move`; default `<folder>/.sent`. Absolute or relative to the working directory. */
  readonly sentFolder?: string;
  /** How many files are hashed and sent at the same time. */
  readonly concurrency: number;
  /** A file is complete once its size and mtime stayed the same this long. */
  readonly stableMs: number;
  /** How often a file still being written is looked at. */
  readonly pollMs: number;
  /** How often the whole folder is listed, to catch files the watcher's events missed. */
  readonly rescanMs: number;
  readonly retry: RetryOptions;
  /** Extra file-name patterns to ignore (`*` matches anything, `?` one character), beside the built-in ones. */
  readonly ignore: readonly string[];
  /** Poll the folder instead of using inotify (network file systems). */
  readonly usePolling: boolean;
}

const positive = (value: number, minimum: number, description: string) => ({ type: 'integer', minimum, default: value, description }) as const;

/** JSON schema of DropFolderOptions (ajv 8, strict). */
export const DROP_FOLDER_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['folder'],
  properties: {
    folder: { type: 'string', minLength: 1, description: 'watched folder; absolute or relative to the working directory' },
    to: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, default: [], description: 'default targets: peer names or ID prefixes, lists (lobby,kitchen), tag:NAME or all' },
    afterSend: { type: 'string', enum: ['move', 'delete'], default: 'move' },
    sentFolder: { type: 'string', minLength: 1, description: 'default: <folder>/.sent' },
    concurrency: positive(2, 1, 'files sent at the same time'),
    stableMs: positive(2000, 50, 'size and mtime unchanged this long = fully written'),
    pollMs: positive(250, 10, 'how often a settling file is checked'),
    rescanMs: positive(5000, 100, 'how often the folder is listed to catch files the watcher missed'),
    retry: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        initialMs: positive(5000, 10, 'first retry after this long'),
        maxMs: positive(300_000, 10, 'longest wait between retries'),
        factor: { type: 'number', minimum: 1, default: 2 },
      },
    },
    ignore: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'extra name patterns to ignore (* and ?)' },
    usePolling: { type: 'boolean', default: false },
  },
} as const;

/** The two folders, absolute. */
export interface ResolvedFolders {
  readonly folder: string;
  readonly sentFolder: string;
}

/** Resolves `folder` and `sentFolder` against `cwd` (the daemon's working directory) unless absolute. */
export function resolveFolders(options: Pick<DropFolderOptions, 'folder' | 'sentFolder'>, configDir: string): ResolvedFolders {
  const folder = isAbsolute(options.folder) ? options.folder : resolve(configDir, options.folder);
  const sentFolder = options.sentFolder === undefined ? join(folder, '.sent') : isAbsolute(options.sentFolder) ? options.sentFolder : resolve(configDir, options.sentFolder);
  return { folder, sentFolder };
}
