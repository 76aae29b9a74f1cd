/**
 * hook-recorder: an example third-party nvid plugin. It writes one JSON line
 * per hook call it sees to a file, which makes the daemon's data flow visible
 * (and is what nvid's own tests read to check hook order and payloads).
 *
 * It uses only the public API (`import type ... from 'nvid'`): copy this
 * folder to start a plugin of your own. See docs/plugins.md.
 */
import { appendFileSync } from 'node:fs';
import type { NvidPlugin, PluginHost } from 'nvid';

export const PLUGIN_NAME = 'hook-recorder';

export interface HookRecorderOptions {
  /** JSON-lines file to append to. */
  readonly file: string;
}

/** Large files and PEM blocks make poor log lines: keep the facts, drop the bulk. */
function summarise(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (typeof (value as { pipe?: unknown }).pipe === 'function') return '[stream]';
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (key === 'certPem' || key === 'keyPem') continue;
    if (typeof field === 'function') continue;
    out[key] = summarise(field);
  }
  return out;
}

export default class HookRecorderPlugin implements NvidPlugin {
  static readonly pluginName = PLUGIN_NAME;
  /** The plugin API this was written for: a future nvid that changes it says so at load time. */
  static readonly apiVersion = 2;
  static readonly schema = {
    type: 'object',
    additionalProperties: false,
    required: ['file'],
    properties: { file: { type: 'string', minLength: 1 } },
  };

  readonly #options: HookRecorderOptions;
  #count = 0;

  constructor(options: HookRecorderOptions) {
    this.#options = options;
  }

  #record(hook: string, payload: unknown): void {
    this.#count++;
    appendFileSync(this.#options.file, `${JSON.stringify({ hook, time: Date.now(), payload: summarise(payload) })}\n`);
  }

  apply(daemon: PluginHost): void {
    const { hooks } = daemon;
    // stage -100: run before the plugins that answer bail hooks, so the recorder sees every call.
    const first = { name: PLUGIN_NAME, stage: -100 };

    for (const name of ['beforeStart', 'start', 'afterStart', 'stop', 'afterStop'] as const) {
      hooks[name].tapPromise(first, async (event) => this.#record(name, event));
    }
    hooks.validate.tapPromise(first, async (request) => void this.#record('validate', request));
    hooks.seal.tapPromise(first, async (request) => void this.#record('seal', request));
    hooks.open.tapPromise(first, async (request) => void this.#record('open', request));
    hooks.deliver.tapPromise(first, async (request) => void this.#record('deliver', request));
    hooks.acceptSender.tapPromise(first, async (request) => void this.#record('acceptSender', request));
    hooks.acceptTransfer.tapPromise(first, async (request) => void this.#record('acceptTransfer', request));
    hooks.display.tapPromise(first, async (request) => void this.#record('display', request));

    hooks.peerJoined.tap(PLUGIN_NAME, (peer) => this.#record('peerJoined', peer));
    hooks.peerLeft.tap(PLUGIN_NAME, (peer) => this.#record('peerLeft', peer));
    hooks.peerRenamed.tap(PLUGIN_NAME, (event) => this.#record('peerRenamed', event));
    hooks.peerUpdated.tap(PLUGIN_NAME, (event) => this.#record('peerUpdated', event));
    for (const name of ['sent', 'sendFailed', 'received', 'rejected', 'queued', 'displayed', 'displayFailed'] as const) {
      hooks[name].tapPromise(PLUGIN_NAME, async (event: object) => this.#record(name, event));
    }

    // A plugin can add to `nvid status` and answer its own control commands.
    hooks.status.tap(PLUGIN_NAME, (report) => ({ ...report, hookRecorder: { file: this.#options.file, recorded: this.#count } }));
    hooks.control.tapPromise(PLUGIN_NAME, async ({ command }) => (command === 'recorder-count' ? { recorded: this.#count } : undefined));
  }
}
