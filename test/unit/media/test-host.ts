/**
 * A PluginHost for exercising one plugin through its hooks without the real
 * daemon: real hooks, a real identity, a temporary state folder and the core's
 * own history log. Shared by the media and display tests.
 */
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryLog, NvidPlugin, NvidPluginClass, PluginHost } from '../../../core/plugin-api.js';
import type { NvidHooks } from '../../../core/hooks.js';
import { createIdentity } from '../../../core/identity.js';
import { makePluginHost } from '../../helpers/plugin-host.js';
import { validateAgainst } from '../../../core/schema.js';
import type { Identity, MediaInfo, TransferMeta } from '../../../core/types.js';

/** A host plus the callable hooks behind it and a cleanup. */
export interface TestHost {
  readonly host: PluginHost;
  /** The same hooks with their call methods, as the core holds them. */
  readonly hooks: NvidHooks;
  readonly history: HistoryLog;
  readonly dir: string;
  /** Removes the temporary folder. */
  dispose(): Promise<void>;
}

let sharedIdentity: Identity | undefined;

/** Makes a node host in a fresh temporary folder. */
export async function createTestHost(label = 'test'): Promise<TestHost> {
  const dir = await mkdtemp(join(tmpdir(), `nvid-${label}-`));
  const stateDir = join(dir, 'state');
  const libraryDir = join(stateDir, 'library');
  await mkdir(libraryDir, { recursive: true });
  // Key generation is the slow part and nothing here depends on a distinct key.
  sharedIdentity ??= createIdentity('test-node');
  const { host, hooks, history } = makePluginHost({ identity: sharedIdentity, stateDir, configDir: dir, name: label, provides: ['display'] });
  return { host, hooks, history, dir, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** Validates `options` against the plugin's schema the way the core does (defaults filled in), then constructs it. */
export function construct<O extends object>(pluginClass: NvidPluginClass<O>, options: Record<string, unknown> = {}): NvidPlugin {
  const copy = structuredClone(options);
  const problems = validateAgainst(pluginClass.schema ?? {}, copy, 'options');
  if (problems.length > 0) throw new Error(`bad test options: ${problems.join('; ')}`);
  return new pluginClass(copy as O);
}

/** Transfer metadata for a display request in a test. */
export function fakeMeta(fileName: string, media: MediaInfo): TransferMeta {
  return { transferId: `t-${fileName}-${Date.now()}`, senderId: 'a'.repeat(64), receiverId: 'b'.repeat(64), time: Date.now(), size: media.size, mediaType: media.kind, fileName };
}
