/**
 * Wraps every tap so a plugin's unexpected throw names the hook and the
 * plugin (webpack's HookWebpackError idea), and hands plugins a tap-only view.
 * Deliberate NvidErrors (a rejected file, a refused peer) pass through as they
 * are: their code is the answer, not a plugin bug.
 */
import { RETIRED_HOOKS, type NvidHooks, type HookName } from './hooks.js';
import { NvidError } from './errors.js';
import type { PluginHooks } from './plugin-api.js';

type AnyFn = (...args: unknown[]) => unknown;
interface RegisteredTap {
  name: string;
  type: 'sync' | 'async' | 'promise';
  fn: AnyFn;
}

function wrapError(hook: string, plugin: string, err: unknown): unknown {
  if (err instanceof NvidError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new NvidError('NVID_ERR_HOOK', `plugin "${plugin}" failed in hook "${hook}": ${message}`, { cause: err, details: { hook, plugin } });
}

/** Installs the error-naming interceptor on every hook; call before any plugin taps. */
export function guardHooks(hooks: NvidHooks): void {
  for (const [hookName, hook] of Object.entries(hooks) as [HookName, NvidHooks[HookName]][]) {
    (hook as unknown as { intercept(i: object): void }).intercept({
      register(tap: RegisteredTap): RegisteredTap {
        const inner = tap.fn;
        const plugin = tap.name;
        if (tap.type === 'sync') {
          tap.fn = (...args: unknown[]) => {
            try {
              return inner(...args);
            } catch (err) {
              throw wrapError(hookName, plugin, err);
            }
          };
        } else if (tap.type === 'promise') {
          tap.fn = async (...args: unknown[]) => {
            try {
              return await inner(...args);
            } catch (err) {
              throw wrapError(hookName, plugin, err);
            }
          };
        } else {
          tap.fn = (...args: unknown[]) => {
            const callback = args.pop() as (err?: unknown, result?: unknown) => void;
            try {
              return inner(...args, (err: unknown, result: unknown) => callback(err ? wrapError(hookName, plugin, err) : err, result));
            } catch (err) {
              callback(wrapError(hookName, plugin, err));
            }
          };
        }
        return tap;
      },
    });
  }
}

const TAP_METHODS = ['tap', 'tapAsync', 'tapPromise', 'isUsed', 'intercept', 'withOptions'] as const;

/**
 * A frozen view of the hooks with only tap methods: plugins tap, the core calls.
 * Asking it for a hook that does not exist throws at once, naming what replaced
 * a retired hook, so a plugin written for an older API fails at load time with
 * words instead of "cannot read properties of undefined".
 */
export function tapOnlyView(hooks: NvidHooks): PluginHooks {
  const view: Record<string, unknown> = {};
  for (const [name, hook] of Object.entries(hooks)) {
    const facade: Record<string, unknown> = { name };
    for (const method of TAP_METHODS) {
      const fn = (hook as unknown as Record<string, unknown>)[method];
      if (typeof fn === 'function') facade[method] = (fn as AnyFn).bind(hook);
    }
    view[name] = Object.freeze(facade);
  }
  Object.freeze(view);
  return new Proxy(view, {
    get(target, property, receiver) {
      if (typeof property === 'string' && !(property in target) && property !== 'then' && property !== 'toJSON') {
        const retired = RETIRED_HOOKS[property];
        throw new NvidError('NVID_ERR_PLUGIN_API', retired ?? `there is no "${property}" hook; hooks: ${Object.keys(target).join(', ')}`);
      }
      return Reflect.get(target, property, receiver);
    },
  }) as unknown as PluginHooks;
}
