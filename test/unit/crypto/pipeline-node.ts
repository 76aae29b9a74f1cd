/**
 * One node of the crypto tests, without sockets: the core's real send and
 * receive pipelines with the real crypto plugin. Media checks are the media
 * plugin's business, so here every file is "an image" (and the sides asked
 * are recorded).
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { PipelineContext } from '../../../core/pipeline/context.js';
import { receiveTransfer } from '../../../core/pipeline/receive.js';
import { TransferTracker } from '../../../core/pipeline/transfer-tracker.js';
import { PeerTable } from '../../../core/peers.js';
import { ReceivedIndex } from '../../../core/received-index.js';
import type { CertifiedPeer, DeliveryReceipt, Identity, MediaInfo, Peer } from '../../../core/types.js';
import CryptoPlugin from '../../../plugins/crypto/index.js';
import { makePluginHost } from '../../helpers/plugin-host.js';
import { piecewise, tempDir } from './helpers.js';

/** A node's pipeline context, its hooks and history, and what it keeps. */
export async function pipelineNode(identity: Identity, name: string) {
  const stateDir = tempDir();
  const libraryDir = join(stateDir, 'library');
  const incomingDir = join(stateDir, 'incoming');
  for (const dir of [libraryDir, incomingDir]) mkdirSync(dir);
  const peers = new PeerTable(makePluginHost({ identity, stateDir }).hooks, identity.id);
  const { host, hooks, history } = makePluginHost({ identity, stateDir, name, peers });
  new CryptoPlugin().apply(host);
  await hooks.beforeStart.promise({ role: 'node' });
  const validated: string[] = [];
  hooks.validate.tapPromise('test-media', async ({ path, side }): Promise<MediaInfo> => {
    validated.push(side);
    return { kind: 'image', container: 'png_pipe', codec: 'png', width: 1, height: 1, duration: 0, frames: 0, hasAudio: false, size: readFileSync(path).length };
  });
  const ctx: PipelineContext = {
    hooks,
    identity,
    peers,
    history,
    log: host.log,
    libraryDir,
    incomingDir,
    maxReceiveBytes: 1 << 30,
    minFreeDiskBytes: 0,
    outboxDir: join(stateDir, 'outbox'),
    resumableFromBytes: 64 * 1024 * 1024,
    resumeMaxAgeMs: 45 * 60 * 1000,
    transfers: new TransferTracker(),
    received: new ReceivedIndex(join(stateDir, 'received.jsonl'), libraryDir),
  };
  return {
    ctx,
    hooks,
    history,
    peers,
    stateDir,
    validated,
    incoming: () => readdirSync(incomingDir),
    kept: () => [...readdirSync(libraryDir), ...readdirSync(incomingDir)],
  };
}

/** A receiving node: envelopes go straight into its receive pipeline (a Buffer arrives in uneven pieces, as from a socket). */
export async function receivingNode(identity: Identity): Promise<{
  receive: (envelope: Buffer | Readable, sender: CertifiedPeer) => Promise<DeliveryReceipt>;
  files: () => string[];
  hooks: Awaited<ReturnType<typeof pipelineNode>>['hooks'];
}> {
  const node = await pipelineNode(identity, 'bob');
  const { libraryDir, incomingDir } = node.ctx;
  return {
    receive: (envelope, sender) => receiveTransfer(node.ctx, { sender, envelope: Buffer.isBuffer(envelope) ? piecewise(envelope) : envelope }),
    hooks: node.hooks,
    files: () => [...readdirSync(libraryDir).map((f) => `library/${f}`), ...readdirSync(incomingDir).map((f) => `incoming/${f}`)],
  };
}
