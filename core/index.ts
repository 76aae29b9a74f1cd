/**
 * The public API for plugin authors and embedders.
 */
export { createHooks, EVENT_HOOKS, type NvidHooks, type HookName, type LifecycleEvent, type DisplayAccepted } from './hooks.js';
export type { PluginHost, PluginHooks, NvidPlugin, NvidPluginClass, PeerDirectory, HistoryLog, IncomingTransfer, TapOnly } from './plugin-api.js';
export * from './types.js';
export { NvidError, ERROR_CODES, isNvidError, type ErrorCode } from './errors.js';
export { Daemon } from './daemon.js';
export { loadConfig, type NvidConfig, type PluginSpec } from './config.js';
export { fingerprintOf } from './identity.js';
export type { SendResult } from './pipeline/send.js';
