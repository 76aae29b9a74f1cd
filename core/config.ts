/**
 * The daemon's config file: read once, validated against its schema with every
 * problem reported together, defaults filled in, then frozen.
 */
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { defaultStateDir, readConfigFile, resolveStateDir } from './config-file.js';
import { NvidError } from './errors.js';
import { deepFreeze, validateAgainst } from './schema.js';
import { MAX_TAGS, TAG_PATTERN } from './targets.js';
import type { Role } from './types.js';

export { defaultStateDir, readConfigFile };

/** A plugin entry: a bundled name, a path (`./x.js`) or package name, or an object with options. */
export type PluginSpec = string | { use: string; options?: Record<string, unknown> };

export interface NvidConfig {
  /** The name this node asks the coordinator for (a label; the ID is the certificate fingerprint). */
  readonly name: string;
  /** State folder: identity, history, library, control socket. */
  readonly stateDir: string;
  readonly log: { readonly level: string };
  readonly plugins: readonly PluginSpec[];
  /** Largest envelope a node agrees to store, before validation even starts. */
  readonly maxReceiveBytes: number;
  /** Disk space a node keeps free: a file that would eat into it is refused as soon as its header is read. */
  readonly minFreeDiskBytes: number;
  /** Sends of files at least this large (and every group send) are sealed to the outbox and resumable. */
  readonly resumableFromBytes: number;
  /** How long a sealed envelope waits in the outbox for a retry before it is removed. */
  readonly resumeMaxAgeMs: number;
  /** Fingerprints (lowercase hex) of the only senders accepted; undefined = any admitted peer. Never names: names are labels. */
  readonly acceptFrom: readonly string[] | undefined;
  /** Fingerprints of the peers that may watch and steer this node's screen (screenshots, skip, delete, schedules). */
  readonly controllers: readonly string[];
  /** Short lowercase words naming the groups this node is in (`floor-2`, `lobby-screens`): others send to them with `--to tag:floor-2`. */
  readonly tags: readonly string[];
  /** Folder the config file is in; plugin paths are relative to it. */
  readonly baseDir: string;
}

export const DEFAULT_PLUGINS: Record<Role, readonly string[]> = {
  coordinator: ['transport'],
  node: ['transport', 'crypto', 'media', 'display'],
};

const NAME_PATTERN = '^[^\\u0000-\\u001f\\u007f/\\\\]{1,64}$';

export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', pattern: NAME_PATTERN },
    stateDir: { type: 'string', minLength: 1 },
    log: {
      type: 'object',
      additionalProperties: false,
      properties: { level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' } },
      default: {},
    },
    plugins: {
      type: 'array',
      items: {
        anyOf: [
          { type: 'string', minLength: 1 },
          {
            type: 'object',
            additionalProperties: false,
            required: ['use'],
            properties: { use: { type: 'string', minLength: 1 }, options: { type: 'object' } },
          },
        ],
      },
    },
    maxReceiveBytes: { type: 'integer', minimum: 1, default: 8 * 1024 ** 3 },
    minFreeDiskBytes: { type: 'integer', minimum: 0, default: 64 * 1024 ** 2 },
    resumableFromBytes: { type: 'integer', minimum: 0, default: 64 * 1024 ** 2 },
    resumeMaxAgeMs: { type: 'integer', minimum: 0, default: 45 * 60 * 1000 },
    acceptFrom: {
      type: 'array',
      items: { type: 'string', pattern: '^([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$' },
      description: 'IDs (certificate fingerprints) of the only peers this node accepts media from; absent = any admitted peer',
    },
    controllers: {
      type: 'array',
      items: { type: 'string', pattern: '^([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$' },
      description: 'IDs (certificate fingerprints) of the peers that may watch and steer this screen; none by default',
    },
    tags: {
      type: 'array',
      items: { type: 'string', pattern: TAG_PATTERN },
      maxItems: MAX_TAGS,
      uniqueItems: true,
      default: [],
      description: 'groups this node is in (short lowercase words); peers send to all of them with --to tag:NAME',
    },
  },
} as const;

export interface LoadConfigOptions {
  role: Role;
  /** Path of the JSON config file; absent = all defaults. */
  file?: string;
  /** `--state DIR` beats the file. */
  stateDir?: string;
  /** `--name NAME` beats the file. */
  name?: string;
  /**
   * Options a command-line flag sets for a plugin, by the name it is listed under
   * (`{ transport: { coordinator: { fingerprint } } }`): merged into that entry, beating the file.
   */
  pluginOptions?: Readonly<Record<string, Record<string, unknown>>>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `over` merged into `base`, objects key by key, anything else replaced. */
function mergeOptions(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...base };
  for (const [key, value] of Object.entries(over)) merged[key] = isPlainObject(value) && isPlainObject(merged[key]) ? mergeOptions(merged[key], value) : value;
  return merged;
}

/** The plugin list with the flags' options merged into the entries they name; a flag for a plugin not listed is a usage error. */
function withPluginOptions(plugins: PluginSpec[], overrides: LoadConfigOptions['pluginOptions']): PluginSpec[] {
  if (!overrides) return plugins;
  for (const use of Object.keys(overrides)) {
    if (!plugins.some((spec) => (typeof spec === 'string' ? spec : spec.use) === use)) throw new NvidError('NVID_ERR_USAGE', `a command-line option sets options of the "${use}" plugin, which the config does not list`);
  }
  return plugins.map((spec) => {
    const use = typeof spec === 'string' ? spec : spec.use;
    const over = overrides[use];
    if (!over) return spec;
    return { use, options: mergeOptions(typeof spec === 'string' ? {} : (spec.options ?? {}), over) };
  });
}

export function loadConfig(options: LoadConfigOptions): NvidConfig {
  const raw = options.file ? readConfigFile(options.file) : {};
  const label = options.file ?? 'config';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new NvidError('NVID_ERR_CONFIG_INVALID', `${label}: the config must be a JSON object`);
  }
  const data = structuredClone(raw) as Record<string, unknown>;
  const problems = validateAgainst(CONFIG_SCHEMA, data, '');
  if (problems.length > 0) {
    throw new NvidError('NVID_ERR_CONFIG_INVALID', `${label} has ${problems.length} problem(s):\n  ${problems.join('\n  ')}`, { details: { problems } });
  }
  const baseDir = options.file ? dirname(resolve(options.file)) : process.cwd();
  const stateDir = resolveStateDir(options.role, data, baseDir, options.stateDir);
  const config: NvidConfig = {
    name: options.name ?? (data.name as string | undefined) ?? (options.role === 'coordinator' ? 'coordinator' : hostname().slice(0, 64)),
    stateDir,
    log: data.log as NvidConfig['log'],
    plugins: withPluginOptions((data.plugins as PluginSpec[] | undefined) ?? [...DEFAULT_PLUGINS[options.role]], options.pluginOptions),
    maxReceiveBytes: data.maxReceiveBytes as number,
    minFreeDiskBytes: data.minFreeDiskBytes as number,
    resumableFromBytes: data.resumableFromBytes as number,
    resumeMaxAgeMs: data.resumeMaxAgeMs as number,
    acceptFrom: (data.acceptFrom as string[] | undefined)?.map((id) => id.replace(/:/g, '').toLowerCase()),
    controllers: ((data.controllers as string[] | undefined) ?? []).map((id) => id.replace(/:/g, '').toLowerCase()),
    tags: data.tags as string[],
    baseDir,
  };
  return deepFreeze(config);
}
