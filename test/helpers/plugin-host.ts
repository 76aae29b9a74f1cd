/**
 * One PluginHost for exercising a plugin through its hooks without the whole
 * daemon: real hooks (with the core's error guard), the core's own history
 * log and peer table unless a test brings its own, a silent logger. The
 * capabilities a test does not wire (send, receive) fail loudly if used.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { NvidError } from '../../core/errors.js';
import { guardHooks } from '../../core/hook-guard.js';
import { JsonLinesHistory } from '../../core/history.js';
import { createHooks, type NvidHooks } from '../../core/hooks.js';
import { PeerTable } from '../../core/peers.js';
import type { HistoryLog, PeerDirectory, PluginHost } from '../../core/plugin-api.js';
import type { Identity, Role } from '../../core/types.js';

export interface PluginHostOptions {
  readonly role?: Role;
  readonly identity: Identity;
  readonly stateDir: string;
  readonly name?: string;
  readonly configDir?: string;
  readonly peers?: PeerDirectory;
  readonly history?: HistoryLog;
  readonly receive?: PluginHost['receive'];
  readonly send?: PluginHost['send'];
}

/** A host and the callable hooks behind it (tests play the core's part and call them). */
export function makePluginHost(options: PluginHostOptions): { host: PluginHost & { name: string }; hooks: NvidHooks; history: HistoryLog } {
  const hooks = createHooks();
  guardHooks(hooks);
  const history = options.history ?? new JsonLinesHistory(join(options.stateDir, 'history.jsonl'));
  const missing = (what: string) => () => Promise.reject(new NvidError('NVID_ERR_NOT_AVAILABLE', `this test host has no ${what} pipeline`));
  const host = {
    hooks,
    role: options.role ?? 'node',
    identity: options.identity,
    stateDir: options.stateDir,
    configDir: options.configDir ?? options.stateDir,
    libraryDir: join(options.stateDir, 'library'),
    name: options.name ?? 'test',
    log: pino({ level: 'silent' }),
    peers: options.peers ?? new PeerTable(hooks, options.identity.id),
    history,
    setName(next: string) {
      host.name = next;
    },
    receive: options.receive ?? missing('receive'),
    send: options.send ?? missing('send'),
    reportRejected(event: Record<string, unknown>) {
      history.append('rejected', event);
      void hooks.rejected.promise(event as never).catch(() => undefined);
    },
  } satisfies PluginHost & { name: string };
  return { host, hooks, history };
}
