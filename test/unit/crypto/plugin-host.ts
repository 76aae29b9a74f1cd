/** A minimal host for driving the crypto plugin through real tapable hooks, as the core would. */
import type { NvidHooks } from '../../../core/hooks.js';
import { makePluginHost } from '../../helpers/plugin-host.js';
import type { Identity, Role } from '../../../core/types.js';
import CryptoPlugin, { type CryptoOptions } from '../../../plugins/crypto/index.js';

/** The hooks (with their call methods, which only the core and tests use) of one applied plugin. */
export async function hostWithPlugin(identity: Identity, stateDir: string, options: Partial<CryptoOptions> = {}, role: Role = 'node'): Promise<NvidHooks> {
  const { host, hooks } = makePluginHost({ role, identity, stateDir });
  await new CryptoPlugin(options).apply(host);
  await hooks.beforeStart.promise({ role });
  return hooks;
}
