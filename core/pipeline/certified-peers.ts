/**
 * Recipients with their certificates. Peer lists carry no certificates (see
 * Peer.certPem), so the first seal for a peer fetches its certificate through
 * the `certificate` hook. The core, not the plugin, checks that the answer's
 * fingerprint is the peer's ID: whoever answers (a coordinator, a cache)
 * cannot make this node seal for a key the recipient does not hold.
 */
import { NvidError, asNvidError } from '../errors.js';
import { fingerprintOf } from '../identity.js';
import type { CertifiedPeer, Peer } from '../types.js';
import { hasTaps } from './hook-checks.js';
import type { PipelineContext } from './context.js';

/** Fills in each peer's certificate (known ones from the peer table, the rest fetched at once), in order. */
export async function certifiedPeers(ctx: PipelineContext, peers: readonly Peer[], signal?: AbortSignal): Promise<CertifiedPeer[]> {
  return Promise.all(peers.map((peer) => certifiedPeer(ctx, peer, signal)));
}

async function certifiedPeer(ctx: PipelineContext, peer: Peer, signal: AbortSignal | undefined): Promise<CertifiedPeer> {
  const known = peer.certPem ?? ctx.peers.get(peer.id)?.certPem;
  if (known !== undefined) return { ...peer, certPem: known };
  if (!hasTaps(ctx.hooks.certificate)) {
    throw new NvidError('NVID_ERR_PEER_CERTIFICATE', `the certificate of ${peer.name} (${peer.id.slice(0, 16)}) is not known here and no plugin can fetch it (nothing taps the "certificate" hook)`);
  }
  let certPem: string | undefined;
  try {
    certPem = await ctx.hooks.certificate.promise({ id: peer.id, ...(signal ? { signal } : {}) });
  } catch (err) {
    throw asNvidError(err, 'NVID_ERR_PEER_CERTIFICATE');
  }
  if (certPem === undefined) throw new NvidError('NVID_ERR_PEER_CERTIFICATE', `no plugin found the certificate of ${peer.name} (${peer.id.slice(0, 16)})`);
  let fingerprint: string;
  try {
    fingerprint = fingerprintOf(certPem);
  } catch {
    fingerprint = 'an unparsable certificate';
  }
  if (fingerprint !== peer.id) {
    throw new NvidError('NVID_ERR_PEER_CERTIFICATE', `the certificate given for ${peer.name} is not its own: its fingerprint is ${fingerprint.slice(0, 16)}, the peer's ID ${peer.id.slice(0, 16)}`, { details: { id: peer.id } });
  }
  ctx.peers.rememberCertificate(peer.id, certPem);
  return { ...peer, certPem };
}
