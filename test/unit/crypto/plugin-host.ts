/** A minimal host for driving the crypto plugin through real tapable hooks, as the core would. */
import { pino } from 'pino';
import { createHooks, type NvidHooks } from '../../../core/hooks.js';
import type { PluginHost } from '../../../core/plugin-api.js';
import type { Identity, Role } from '../../../core/types.js';
import CryptoPlugin, { type CryptoOptions } from '../../../plugins/crypto/index.js';

/** The hooks (with their call methods, which only the core and tests use) of one applied plugin. */
export async function hostWithPlugin(identity: Identity, stateDir: string, options: Partial<CryptoOptions> = {}, role: Role = 'node'): Promise<NvidHooks> {
  const hooks = createHooks();
  const host = { hooks, role, identity, stateDir, libraryDir: stateDir, name: 'test', log: pino({ level: 'silent' }) };
  await new CryptoPlugin(options).apply(host as unknown as PluginHost);
  await hooks.beforeStart.promise({ role });
  return hooks;
}
