/**
 * The bundled `drop-folder` plugin: files put into a watched folder are sent
 * to peers once fully written, moved to a sent folder (or deleted) once every
 * target acknowledged them, and kept with a note beside them when they could
 * not be delivered. See README.md in this folder.
 *
 * Taps `start`/`stop` (watcher, queue, ledger), `peerJoined`/`peerRenamed`/`peerUpdated`
 * (retry what waits for that peer at once), `status` and `control`. It follows
 * its own sends through the host's send API (transfer ID at start, progress,
 * cancel at stop). The work itself lives in the hook-free modules beside this file.
 */
import { join } from 'node:path';
import { NvidError } from '../../core/errors.js';
import type { NvidPlugin, PluginHost } from '../../core/plugin-api.js';
import type { Peer } from '../../core/types.js';
import { DropQueue } from './drop-queue.js';
import { DROP_FOLDER_ERROR_CODES } from './errors.js';
import { InFlightDeliveries } from './file-job.js';
import { FolderWatcher } from './folder-watcher.js';
import { IgnoreRules } from './ignore-rules.js';
import { DeliveryLedger } from './ledger.js';
import { DROP_FOLDER_SCHEMA, resolveFolders, type DropFolderOptions } from './options.js';
import { SendProgress } from './send-progress.js';

export const PLUGIN_NAME = 'drop-folder';
export type { DropFolderOptions } from './options.js';

/** The ledger of acknowledged deliveries, inside the node's state folder. */
export const LEDGER_FILE = join('drop-folder', 'ledger.jsonl');

/** How long `stop` lets running sends finish before the daemon goes on stopping. */
const STOP_GRACE_MS = 5000;

export default class DropFolderPlugin implements NvidPlugin {
  static readonly pluginName = PLUGIN_NAME;
  static readonly schema = DROP_FOLDER_SCHEMA;
  static readonly apiVersion = 2;
  static readonly errorCodes = DROP_FOLDER_ERROR_CODES;

  readonly #options: DropFolderOptions;

  /** @param options already validated against `schema`, defaults filled in */
  constructor(options: DropFolderOptions) {
    this.#options = options;
  }

  apply(daemon: PluginHost): void {
    // Only nodes send media; a coordinator listing this plugin has nothing to watch.
    if (daemon.role !== 'node') return;
    const options = this.#options;
    const { folder, sentFolder } = resolveFolders(options, daemon.configDir);
    let running: { queue: DropQueue; watcher: FolderWatcher; ledger: DeliveryLedger; rescan?: NodeJS.Timeout } | undefined;
    const progress = new SendProgress();

    daemon.hooks.start.tapPromise(PLUGIN_NAME, async () => {
      const ledger = new DeliveryLedger(join(daemon.stateDir, LEDGER_FILE));
      const queue = new DropQueue(
        { folder, sentFolder, afterSend: options.afterSend, to: options.to, concurrency: options.concurrency, stableMs: options.stableMs, pollMs: options.pollMs, retry: options.retry },
        {
          // The queue aborts `signal` when the node stops and a send outlived the grace time: the file stays for the next run.
          send: async (file, target, { signal }) => {
            try {
              const result = await daemon.send(file, target, {
                onStart: (start) => progress.started(file, start),
                onProgress: (report) => progress.update(file, report),
                signal,
              });
              return { transferId: result.transferId, to: result.to, sha256: result.sha256, size: result.size, seconds: result.seconds };
            } finally {
              progress.finished(file);
            }
          },
          resolvePeer: (target) => daemon.peers.resolve(target),
          // `tag:floor-2`, `lobby,kitchen`, `all`: the core's resolver, as `nvid send --to` uses.
          resolveTargets: (target) => daemon.peers.resolveTargets(target),
          ledger,
          inFlight: new InFlightDeliveries(),
          log: daemon.log,
        },
      );
      const watcher = new FolderWatcher(folder, new IgnoreRules(folder, sentFolder, options.ignore), options.usePolling);
      running = { queue, watcher, ledger };
      try {
        await watcher.start({
          fileSeen: (path) => queue.offer(path),
          fileGone: (path) => queue.forget(path),
          error: (err) => daemon.log.error({ folder, err: err.message }, `watching ${folder} failed: ${err.message}`),
        });
      } catch (err) {
        // The core reports it as NVID_ERR_HOOK naming this plugin and the start hook.
        throw new Error(`cannot watch ${folder}: ${(err as Error).message}`, { cause: err });
      }
      // Only files the queue has never heard of: offering a known one would cut its retry backoff short.
      running.rescan = setInterval(() => {
        if (!running) return;
        for (const path of running.watcher.listFiles()) if (!running.queue.knows(path)) running.queue.offer(path);
      }, options.rescanMs);
      running.rescan.unref();
      const { entries, skipped } = ledger.size;
      daemon.log.info(
        { folder, sentFolder: options.afterSend === 'move' ? sentFolder : null, to: options.to, ledgerEntries: entries, ledgerSkippedLines: skipped },
        `watching ${folder}; files go to ${options.to.length > 0 ? options.to.join(', ') : 'the peer named by their subfolder'}`,
      );
    });

    daemon.hooks.stop.tapPromise(PLUGIN_NAME, async () => {
      // stop may run without start having run (another plugin failed to start).
      if (!running) return;
      const { queue, watcher, ledger, rescan } = running;
      running = undefined;
      clearInterval(rescan);
      await watcher.close();
      await queue.close(STOP_GRACE_MS);
      ledger.close();
    });

    const retryFor = (peer: Peer) => {
      const count = running?.queue.peerAvailable(peer) ?? 0;
      if (count > 0) daemon.log.info({ peer: peer.name, files: count }, `${peer.name} is here: retrying ${count} file(s) now`);
    };
    daemon.hooks.peerJoined.tap(PLUGIN_NAME, retryFor);
    daemon.hooks.peerRenamed.tap(PLUGIN_NAME, ({ peer }) => retryFor(peer));
    daemon.hooks.peerUpdated.tap(PLUGIN_NAME, ({ peer }) => retryFor(peer));

    daemon.hooks.status.tap(PLUGIN_NAME, (report) => {
      if (!running) return { ...report, dropFolder: { folder, running: false } };
      const files = running.queue.list();
      return {
        ...report,
        dropFolder: {
          folder,
          sentFolder: options.afterSend === 'move' ? sentFolder : null,
          to: options.to,
          ...running.queue.counts(),
          // What is moving now and what is stuck, with reasons; `nvid` scripts call `drop-folder` for the whole list.
          sendingFiles: files.filter((f) => f.state === 'sending').map((f) => ({ file: f.file, size: f.size, progress: progress.of(join(folder, f.file)) ?? null })),
          failedFiles: files.filter((f) => f.state === 'waiting' || f.state === 'held').map((f) => ({ file: f.file, state: f.state, attempts: f.attempts, nextRetry: f.nextRetry ?? null, failures: f.failures })),
          ledgerEntries: running.ledger.size.entries,
        },
      };
    });

    daemon.hooks.control.tapPromise(PLUGIN_NAME, async ({ command, args }) => {
      if (command !== 'drop-folder') return undefined;
      if (!running) throw new NvidError('NVID_ERR_NOT_AVAILABLE', 'drop-folder: not watching (the node is starting or stopping)');
      const action = args.action ?? 'list';
      if (action === 'retry') return { retrying: running.queue.retryNow(args.all === true) };
      if (action !== 'list') throw new NvidError('NVID_ERR_USAGE', 'drop-folder: "action" is "list" or "retry"');
      return { folder, sentFolder: options.afterSend === 'move' ? sentFolder : null, counts: running.queue.counts(), files: running.queue.list() };
    });
  }
}
