/**
 * Turns the config's `plugins` list into plugin instances: finds each module
 * (bundled name, path, or package), validates its options against its own
 * schema, constructs it. Every failure names the plugin and its config key.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import semver from 'semver';
import type { PluginSpec } from './config.js';
import { ERROR_CODE_PATTERN, NvidError } from './errors.js';
import { PLUGIN_API_VERSION, type NvidPlugin, type NvidPluginClass, type PluginDeclaration, type PluginRole } from './plugin-api.js';
import { deepFreeze, validateAgainst } from './schema.js';

/** dist/plugins, beside dist/core. */
export const BUNDLED_PLUGINS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'plugins');

export interface LoadedPlugin {
  /** The name used for taps and messages. */
  readonly name: string;
  /** Where it is in the config, e.g. `plugins[2]`. */
  readonly key: string;
  readonly source: 'bundled' | 'path' | 'package';
  readonly instance: NvidPlugin;
  /** Roles it provides, and so the powers its host carries. */
  readonly provides: readonly PluginRole[];
  /** Its own error codes and what they mean. */
  readonly errorCodes: Readonly<Record<string, string>>;
}

interface Located {
  url: string;
  source: LoadedPlugin['source'];
  /** For a package: its package.json, where `engines.nvid` may say which nvid it needs. */
  packageJson?: string;
}

/** This nvid's version, for plugin packages that name the versions they work with. */
const NVID_VERSION = (JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

/** The package.json of the package `name` whose entry point is `entry`: the nearest one upwards that names it. */
function packageJsonOf(entry: string, name: string): string | undefined {
  let dir = dirname(entry);
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        if ((JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === name) return candidate;
      } catch {
        // not ours to judge here: the module itself loaded
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * A plugin package may say which nvid versions it works with, in its package.json's
 * `engines.nvid` (a semver range, as Homebridge plugins name `engines.homebridge`).
 */
function checkEngines(located: Located, use: string, key: string): void {
  if (!located.packageJson) return;
  const engines = (JSON.parse(readFileSync(located.packageJson, 'utf8')) as { engines?: Record<string, unknown> }).engines;
  const range = engines?.nvid;
  if (range === undefined) return;
  if (typeof range !== 'string' || semver.validRange(range) === null) {
    throw new NvidError('NVID_ERR_PLUGIN_SHAPE', `${key} ("${use}"): its package.json's engines.nvid is not a version range: ${JSON.stringify(range)}`);
  }
  if (!semver.satisfies(NVID_VERSION, range, { includePrerelease: true })) {
    throw new NvidError('NVID_ERR_PLUGIN_API', `${key} ("${use}"): the package needs nvid ${range} (its engines.nvid); this is nvid ${NVID_VERSION}`);
  }
}

function locate(use: string, baseDir: string, key: string): Located {
  if (use.startsWith('.') || use.startsWith('/')) {
    const file = resolve(baseDir, use);
    if (!existsSync(file)) throw new NvidError('NVID_ERR_PLUGIN_NOT_FOUND', `${key} ("${use}"): no file at ${file}`);
    return { url: pathToFileURL(file).href, source: 'path' };
  }
  if (/^[a-z][a-z0-9-]*$/.test(use)) {
    const bundled = join(BUNDLED_PLUGINS_DIR, use, 'index.js');
    if (existsSync(bundled)) return { url: pathToFileURL(bundled).href, source: 'bundled' };
  }
  try {
    // Resolve packages from the config's folder, as the user would expect.
    const entry = createRequire(join(baseDir, 'package.json')).resolve(use);
    const packageName = use.startsWith('@') ? use.split('/').slice(0, 2).join('/') : use.split('/')[0]!;
    const packageJson = packageJsonOf(entry, packageName);
    return { url: pathToFileURL(entry).href, source: 'package', ...(packageJson ? { packageJson } : {}) };
  } catch {
    throw new NvidError('NVID_ERR_PLUGIN_NOT_FOUND', `${key} ("${use}"): not a bundled plugin and no package of that name is installed (looked from ${baseDir}); bundled plugins: ${listBundled().join(', ')}`);
  }
}

/** The bundled plugins: every folder of dist/plugins with an index.js. */
export function listBundled(): string[] {
  return readdirSync(BUNDLED_PLUGINS_DIR).filter((name) => existsSync(join(BUNDLED_PLUGINS_DIR, name, 'index.js'))).sort();
}

function isPluginClass(value: unknown): value is NvidPluginClass {
  return typeof value === 'function' && typeof (value as { prototype?: { apply?: unknown } }).prototype?.apply === 'function';
}

function isPluginObject(value: unknown): value is NvidPlugin & PluginDeclaration {
  return typeof value === 'object' && value !== null && typeof (value as NvidPlugin).apply === 'function';
}

const ROLES: readonly PluginRole[] = ['transport', 'display'];

/**
 * Checks what a plugin says about itself before it is built: the API version it was
 * written for (as Homebridge checks its plugins' engines), the roles it claims and
 * the shape of its own error codes.
 */
function checkDeclaration(declared: PluginDeclaration, name: string, key: string): void {
  if (declared.apiVersion !== undefined && declared.apiVersion !== PLUGIN_API_VERSION) {
    throw new NvidError(
      'NVID_ERR_PLUGIN_API',
      `plugin "${name}" (${key}) was written for plugin API ${String(declared.apiVersion)}; this nvid speaks plugin API ${PLUGIN_API_VERSION} (see docs/plugins.md, "Changes in plugin API 2")`,
    );
  }
  for (const role of declared.provides ?? []) {
    if (!ROLES.includes(role)) throw new NvidError('NVID_ERR_PLUGIN_SHAPE', `plugin "${name}" (${key}) provides "${String(role)}"; roles a plugin can provide: ${ROLES.join(', ')}`);
  }
  for (const code of Object.keys(declared.errorCodes ?? {})) {
    if (!ERROR_CODE_PATTERN.test(code)) throw new NvidError('NVID_ERR_PLUGIN_SHAPE', `plugin "${name}" (${key}) declares the error code "${code}"; codes are NVID_ERR_ followed by upper-case words joined by underscores`);
  }
}

/** A plugin module found and checked, not yet constructed. */
interface Candidate {
  readonly name: string;
  readonly key: string;
  readonly source: LoadedPlugin['source'];
  readonly exported: NvidPluginClass | (NvidPlugin & PluginDeclaration);
  readonly options: Record<string, unknown>;
  /** What is wrong with its options, each line with its key path. */
  readonly problems: readonly string[];
}

async function findPlugin(spec: PluginSpec, index: number, baseDir: string): Promise<Candidate> {
  const key = `plugins[${index}]`;
  const use = typeof spec === 'string' ? spec : spec.use;
  const options = structuredClone(typeof spec === 'string' ? {} : (spec.options ?? {}));
  const located = locate(use, baseDir, key);
  checkEngines(located, use, key);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(located.url)) as Record<string, unknown>;
  } catch (err) {
    throw new NvidError('NVID_ERR_PLUGIN_NOT_FOUND', `${key} ("${use}"): the module failed to load: ${(err as Error).message}`, { cause: err });
  }
  const exported = mod.default ?? mod.plugin;
  if (!isPluginClass(exported) && !isPluginObject(exported)) {
    throw new NvidError('NVID_ERR_PLUGIN_SHAPE', `${key} ("${use}"): the module's default export must be a class with apply(daemon) or an object with apply(daemon)`);
  }
  const name = exported.pluginName ?? (isPluginClass(exported) ? exported.name : use);
  checkDeclaration(exported, name, key);
  const optionsKey = `${key}.options`;
  let problems: string[] = [];
  if (exported.schema) problems = validateAgainst(exported.schema, options, optionsKey);
  else if (Object.keys(options).length > 0) problems = [`${optionsKey}: plugin "${name}" takes no options, but has: ${Object.keys(options).join(', ')}`];
  return { name, key, source: located.source, exported, options, problems };
}

function construct(candidate: Candidate): LoadedPlugin {
  const { exported, name, key } = candidate;
  let instance: NvidPlugin;
  try {
    instance = isPluginClass(exported) ? new exported(deepFreeze(candidate.options)) : exported;
  } catch (err) {
    throw new NvidError('NVID_ERR_PLUGIN_APPLY', `plugin "${name}" (${key}) failed in its constructor: ${(err as Error).message}`, { cause: err });
  }
  return { name, key, source: candidate.source, instance, provides: exported.provides ?? [], errorCodes: exported.errorCodes ?? {} };
}

/** Loads one plugin entry; does not call apply. */
export async function loadPlugin(spec: PluginSpec, index: number, baseDir: string): Promise<LoadedPlugin> {
  return (await loadPlugins([spec], baseDir, index))[0]!;
}

/**
 * Loads every entry in order. A plugin that cannot be found or is of the wrong shape stops the
 * start at once; option problems are gathered first, so one start lists every plugin's.
 */
export async function loadPlugins(specs: readonly PluginSpec[], baseDir: string, firstIndex = 0): Promise<LoadedPlugin[]> {
  const candidates: Candidate[] = [];
  for (const [index, spec] of specs.entries()) candidates.push(await findPlugin(spec, firstIndex + index, baseDir));
  const faulty = candidates.filter((c) => c.problems.length > 0);
  if (faulty.length > 0) {
    const problems = faulty.flatMap((c) => c.problems);
    const who = faulty.map((c) => `"${c.name}" (${c.key})`).join(', ');
    throw new NvidError('NVID_ERR_PLUGIN_OPTIONS', `invalid options for plugin${faulty.length > 1 ? 's' : ''} ${who}:\n  ${problems.join('\n  ')}`, { details: { problems } });
  }
  const seen = new Set<string>();
  const providers = new Map<PluginRole, string>();
  for (const candidate of candidates) {
    if (seen.has(candidate.name)) throw new NvidError('NVID_ERR_PLUGIN_SHAPE', `plugin "${candidate.name}" is listed twice (${candidate.key})`);
    seen.add(candidate.name);
    for (const role of candidate.exported.provides ?? []) {
      const other = providers.get(role);
      if (other) throw new NvidError('NVID_ERR_PLUGIN_SHAPE', `plugins "${other}" and "${candidate.name}" both provide ${role}; list only one`);
      providers.set(role, candidate.name);
    }
  }
  return candidates.map(construct);
}
