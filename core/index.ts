/**
 * The public API for plugin authors and embedders.
 */
export { createHooks, EVENT_HOOKS, EVENT_HISTORY_KINDS, RETIRED_HOOKS, type NvidHooks, type HookName, type EventHookName, type LifecycleEvent, type DisplayAccepted } from './hooks.js';
export {
  PLUGIN_API_VERSION,
  type PluginHost,
  type PluginHooks,
  type PluginDeclaration,
  type PluginRole,
  type NvidPlugin,
  type NvidPluginClass,
  type PeerView,
  type PeerDirectory,
  type HistoryLog,
  type IncomingTransfer,
  type TransportPowers,
  type ScreenPowers,
  type TapOnly,
} from './plugin-api.js';
export * from './types.js';
export { NvidError, ERROR_CODES, ERROR_CODE_PATTERN, isNvidError, type ErrorCode } from './errors.js';
export { Daemon } from './daemon.js';
export { loadConfig, type NvidConfig, type PluginSpec } from './config.js';
export { fingerprintOf } from './identity.js';
