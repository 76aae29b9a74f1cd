/**
 * The pipelines' questions to the hook table: is a capability provided at all,
 * and did any plugin answer? Each gives the one clear NVID_ERR_NOT_AVAILABLE.
 */
import { NvidError } from '../errors.js';
import type { NvidHooks } from '../hooks.js';

/** Whether any plugin tapped a hook (tapable's isUsed() also counts the core's own interceptor). */
export function hasTaps(hook: { taps: readonly unknown[] }): boolean {
  return hook.taps.length > 0;
}

/** A capability hook with no taps means no plugin provides it: say which kind of plugin is missing. */
export function requireHook<H extends Partial<NvidHooks>>(hooks: H, hook: keyof H & keyof NvidHooks, pluginKind: string, action: string): void {
  if (!hasTaps(hooks[hook] as { taps: readonly unknown[] })) {
    throw new NvidError('NVID_ERR_NOT_AVAILABLE', `${action}: not available: no ${pluginKind} plugin loaded (nothing taps the "${hook}" hook)`);
  }
}

/** A bail hook whose taps all passed (returned undefined) gave no answer: same problem as no tap. */
export function answered<T>(value: T | undefined, hook: string, action: string): T {
  if (value === undefined) throw new NvidError('NVID_ERR_NOT_AVAILABLE', `${action}: not available: no plugin answered the "${hook}" hook`);
  return value;
}
