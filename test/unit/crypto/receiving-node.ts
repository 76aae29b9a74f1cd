/** A receiving node for the crypto tests: the core's real receive pipeline with the real crypto plugin. */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { PipelineContext } from '../../../core/pipeline/context.js';
import { receiveTransfer } from '../../../core/pipeline/receive.js';
import { TransferTracker } from '../../../core/pipeline/transfer-tracker.js';
import { ReceivedIndex } from '../../../core/received-index.js';
import type { DeliveryReceipt, Identity, MediaInfo, Peer } from '../../../core/types.js';
import CryptoPlugin from '../../../plugins/crypto/index.js';
import { makePluginHost } from '../../helpers/plugin-host.js';
import { piecewise, tempDir } from './helpers.js';

/** A receiving node: the core's pipeline context with the crypto plugin and a stand-in media validator. */
export async function receivingNode(identity: Identity): Promise<{
  receive: (envelope: Buffer | Readable, sender: Peer) => Promise<DeliveryReceipt>;
  files: () => string[];
  hooks: ReturnType<typeof makePluginHost>['hooks'];
}> {
  const stateDir = tempDir();
  const libraryDir = join(stateDir, 'library');
  const incomingDir = join(stateDir, 'incoming');
  for (const dir of [libraryDir, incomingDir]) mkdirSync(dir);
  const { host, hooks, history } = makePluginHost({ identity, stateDir, name: 'bob' });
  const log = host.log;
  new CryptoPlugin().apply(host);
  await hooks.beforeStart.promise({ role: 'node' });
  // Media checks are the media plugin's business; here every decrypted file is "an image".
  hooks.validate.tapPromise('test-media', async ({ path }): Promise<MediaInfo> => {
    const size = readFileSync(path).length;
    return { kind: 'image', container: 'png_pipe', codec: 'png', width: 1, height: 1, duration: 0, frames: 0, hasAudio: false, size };
  });
  const ctx = {
    hooks,
    identity,
    history,
    log,
    libraryDir,
    incomingDir,
    maxReceiveBytes: 1 << 30,
    minFreeDiskBytes: 0,
    transfers: new TransferTracker(),
    received: new ReceivedIndex(join(stateDir, 'received.jsonl'), libraryDir),
  } as unknown as PipelineContext;
  return {
    receive: (envelope, sender) => receiveTransfer(ctx, { sender, envelope: Buffer.isBuffer(envelope) ? piecewise(envelope) : envelope }),
    hooks,
    files: () => [...readdirSync(libraryDir).map((f) => `library/${f}`), ...readdirSync(incomingDir).map((f) => `incoming/${f}`)],
  };
}

