/**
 * Runs a coordinator or node in the foreground until SIGINT/SIGTERM.
 */
import { loadConfig } from '../config.js';
import { Daemon } from '../daemon.js';
import { asNvidError, NvidError } from '../errors.js';
import type { Role } from '../types.js';
import { exitCodeFor } from './exit-codes.js';
import { tuneGarbageCollector } from './gc-tuning.js';

/** What the daemon commands take besides the global options. */
export interface DaemonArgs {
  config?: string;
  state?: string;
  name?: string;
  json?: boolean;
  /** `nvid node --coordinator-fingerprint FP`: the coordinator to trust, as `transport.coordinator.fingerprint`. */
  coordinatorFingerprint?: string;
}

const FINGERPRINT = /^([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$/;

/** Plugin options the flags set. */
function pluginOptionsOf(argv: DaemonArgs): Record<string, Record<string, unknown>> | undefined {
  if (argv.coordinatorFingerprint === undefined) return undefined;
  if (!FINGERPRINT.test(argv.coordinatorFingerprint)) {
    throw new NvidError('NVID_ERR_USAGE', `--coordinator-fingerprint: expected a SHA-256 fingerprint (64 hex digits, colons allowed), not "${argv.coordinatorFingerprint}"`);
  }
  return { transport: { coordinator: { fingerprint: argv.coordinatorFingerprint } } };
}

export async function runDaemon(role: Role, argv: DaemonArgs): Promise<void> {
  // Only nodes move media; a coordinator with many connected nodes keeps a larger heap, where
  // incremental marking is what keeps collections from pausing it.
  if (role === 'node') tuneGarbageCollector();
  let daemon: Daemon;
  try {
    const pluginOptions = pluginOptionsOf(argv);
    const config = loadConfig({ role, ...(argv.config ? { file: argv.config } : {}), ...(argv.state ? { stateDir: argv.state } : {}), ...(argv.name ? { name: argv.name } : {}), ...(pluginOptions ? { pluginOptions } : {}) });
    daemon = new Daemon(role, config);
    await daemon.start();
  } catch (err) {
    const error = asNvidError(err, 'NVID_ERR_HOOK');
    // A plugin's own code (a weak token, a bad schedule) sits under the core's wrapper: name both, so scripts can match it.
    const cause = error.cause instanceof NvidError && error.cause.code !== error.code ? `, caused by ${error.cause.code}` : '';
    process.stderr.write(`nvid ${role}: cannot start: ${error.message} [${error.code}${cause}]\n`);
    process.exit(exitCodeFor(error.code));
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    daemon.log.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      daemon.log.error('stop took longer than 10 s; exiting anyway');
      process.exit(1);
    }, 10_000);
    timer.unref();
    try {
      await daemon.stop();
      process.exit(0);
    } catch (err) {
      daemon.log.error({ err }, 'error while stopping');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // One failed transfer must not take the node down for everyone else.
  process.on('unhandledRejection', (reason) => {
    const error = asNvidError(reason, 'NVID_ERR_HOOK');
    daemon.log.error({ code: error.code, err: reason }, `unhandled rejection: ${error.message}`);
  });
  process.on('uncaughtException', (err) => {
    daemon.log.fatal({ err }, `uncaught exception: ${err.message}`);
    void stop('uncaughtException').finally(() => process.exit(1));
  });
}
