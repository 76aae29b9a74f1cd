/**
 * The bundled crypto plugin: end-to-end envelopes for media transfers.
 * Taps `seal` (one or several recipients, the body encrypted once, streamed) and `open` (verify the header, then
 * stream the verified plaintext). Only nodes seal and open; on the
 * coordinator it taps nothing. The byte layout is in README.md.
 */
import { join } from 'node:path';
import type { NvidPlugin, PluginHost } from '../../core/plugin-api.js';
import type { OpenedEnvelope, OpenRequest, SealedEnvelope, SealRequest } from '../../core/types.js';
import { CRYPTO_ERROR_CODES } from './errors.js';
import { openEnvelope } from './open.js';
import { OPTIONS_SCHEMA, resolveOptions, type CryptoOptions } from './options.js';
import { ReplayGuard } from './replay-guard.js';
import { sealFile } from './seal.js';

export const PLUGIN_NAME = 'crypto';
export type { CryptoOptions } from './options.js';

/**
 * Seals outgoing media for its recipient (or once for all of a group's) with AES-256-GCM in STREAM
 * chunks, the key wrapped with RSA-OAEP and the header signed with RSA-PSS;
 * opens and verifies incoming envelopes, refusing replays and stale ones.
 */
export default class CryptoPlugin implements NvidPlugin {
  static readonly pluginName = PLUGIN_NAME;
  /** JSON schema of the options (ajv, draft-07, with defaults). */
  static readonly schema = OPTIONS_SCHEMA;
  static readonly apiVersion = 2;
  static readonly errorCodes = CRYPTO_ERROR_CODES;

  readonly options: CryptoOptions;
  private replayGuard: Promise<ReplayGuard> | undefined;

  constructor(options?: Partial<CryptoOptions>) {
    this.options = resolveOptions(options);
  }

  apply(daemon: PluginHost): void {
    if (daemon.role !== 'node') return;
    const loadGuard = () =>
      (this.replayGuard ??= ReplayGuard.load({
        file: join(daemon.stateDir, this.options.replayFile),
        windowMs: this.options.replayWindowMs + this.options.maxClockSkewMs,
      }));
    // Load the remembered IDs at start, so a broken state folder shows up before the first transfer.
    daemon.hooks.beforeStart.tapPromise(PLUGIN_NAME, async () => {
      await loadGuard();
    });

    daemon.hooks.seal.tapPromise(PLUGIN_NAME, async (request: SealRequest): Promise<SealedEnvelope> => {
      const recipients = request.recipients ?? [request.recipient];
      const input = { recipients, sender: daemon.identity, meta: request.meta, chunkSize: this.options.chunkSize };
      // A file still arriving is read as it grows; the envelope errors if it stops growing.
      const envelope = await sealFile(request.path, input, request.growing);
      daemon.log.debug({ transferId: request.meta.transferId, recipients: recipients.map((r) => r.id), length: envelope.length }, 'sealed envelope');
      return envelope;
    });

    daemon.hooks.open.tapPromise(PLUGIN_NAME, async (request: OpenRequest): Promise<OpenedEnvelope> => {
      const opened = await openEnvelope({
        envelope: request.envelope,
        sender: request.sender,
        identity: daemon.identity,
        replayGuard: await loadGuard(),
        replayWindowMs: this.options.replayWindowMs,
        maxClockSkewMs: this.options.maxClockSkewMs,
      });
      daemon.log.debug({ transferId: opened.meta.transferId, sender: request.sender.id, size: opened.meta.size }, 'envelope header verified');
      return opened;
    });
  }
}
