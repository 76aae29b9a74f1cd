/**
 * Turns the config's `plugins` list into plugin instances: finds each module
 * (bundled name, path, or package), validates its options against its own
 * schema, constructs it. Every failure names the plugin and its config key.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PluginSpec } from './config.js';
import { NvidError } from './errors.js';
import type { NvidPlugin, NvidPluginClass } from './plugin-api.js';
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
}

interface Located {
  url: string;
  source: LoadedPlugin['source'];
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
    return { url: pathToFileURL(createRequire(join(baseDir, 'package.json')).resolve(use)).href, source: 'package' };
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

function isPluginObject(value: unknown): value is NvidPlugin & { schema?: object; pluginName?: string } {
  return typeof value === 'object' && value !== null && typeof (value as NvidPlugin).apply === 'function';
}

/** Loads one plugin entry; does not call apply. */
export async function loadPlugin(spec: PluginSpec, index: number, baseDir: string): Promise<LoadedPlugin> {
  const key = `plugins[${index}]`;
  const use = typeof spec === 'string' ? spec : spec.use;
  const options = structuredClone(typeof spec === 'string' ? {} : (spec.options ?? {}));
  const located = locate(use, baseDir, key);
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
  const schema = exported.schema;
  const name = exported.pluginName ?? (isPluginClass(exported) ? exported.name : use);
  const optionsKey = `${key}.options`;
  if (schema) {
    const problems = validateAgainst(schema, options, optionsKey);
    if (problems.length > 0) {
      throw new NvidError('NVID_ERR_PLUGIN_OPTIONS', `plugin "${name}" (${key}) has invalid options:\n  ${problems.join('\n  ')}`, { details: { problems } });
    }
  } else if (Object.keys(options).length > 0) {
    throw new NvidError('NVID_ERR_PLUGIN_OPTIONS', `plugin "${name}" (${key}) takes no options, but ${optionsKey} has: ${Object.keys(options).join(', ')}`);
  }
  let instance: NvidPlugin;
  try {
    instance = isPluginClass(exported) ? new exported(deepFreeze(options)) : exported;
  } catch (err) {
    throw new NvidError('NVID_ERR_PLUGIN_APPLY', `plugin "${name}" (${key}) failed in its constructor: ${(err as Error).message}`, { cause: err });
  }
  return { name, key, source: located.source, instance };
}

/** Loads every entry in order; the first failure stops the start. */
export async function loadPlugins(specs: readonly PluginSpec[], baseDir: string): Promise<LoadedPlugin[]> {
  const loaded: LoadedPlugin[] = [];
  for (const [index, spec] of specs.entries()) loaded.push(await loadPlugin(spec, index, baseDir));
  const seen = new Set<string>();
  for (const plugin of loaded) {
    if (seen.has(plugin.name)) throw new NvidError('NVID_ERR_PLUGIN_SHAPE', `plugin "${plugin.name}" is listed twice (${plugin.key})`);
    seen.add(plugin.name);
  }
  return loaded;
}
