/**
 * What the send and receive pipelines need from the daemon, and nothing more.
 */
import type { Logger } from 'pino';
import type { NvidHooks } from '../hooks.js';
import type { HistoryLog, PeerDirectory, PeerView } from '../plugin-api.js';
import type { ReceivedIndex } from '../received-index.js';
import type { Identity } from '../types.js';
import type { TransferTracker } from './transfer-tracker.js';

export interface PipelineContext {
  readonly hooks: NvidHooks;
  readonly identity: Identity;
  /** Read only, but for keeping a certificate fetched and checked before a seal. */
  readonly peers: PeerView & Pick<PeerDirectory, 'rememberCertificate'>;
  readonly history: HistoryLog;
  readonly log: Logger;
  readonly libraryDir: string;
  readonly incomingDir: string;
  readonly maxReceiveBytes: number;
  readonly minFreeDiskBytes: number;
  /** Where envelopes sealed for resumable sends wait (pipeline/outbox.ts). */
  readonly outboxDir: string;
  /** Single-recipient sends of at least this many bytes go through the outbox (group sends always do). */
  readonly resumableFromBytes: number;
  readonly resumeMaxAgeMs: number;
  readonly transfers: TransferTracker;
  readonly received: ReceivedIndex;
}
