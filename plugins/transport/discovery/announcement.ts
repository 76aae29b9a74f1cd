/**
 * What a coordinator says about itself on mDNS, and how a node judges it. mDNS
 * is unauthenticated, so the TXT fingerprint only chooses which coordinator to
 * try: the TLS connection must then present exactly that certificate (the
 * coordinator client checks it, as it checks a configured pin).
 */
import { NvidError } from '../../../core/errors.js';
import { normaliseFingerprint } from '../wire/tls-helpers.js';

/** DNS-SD service type `_nvid._tcp` (bonjour-service adds the underscores and the protocol). */
export const SERVICE_TYPE = 'nvid';
/** The TXT `v` this node speaks; a coordinator announcing another is refused, not guessed at. */
export const DISCOVERY_VERSION = '1';

/** The TXT record a coordinator announces: `v=1 fp=<64 hex digits>`. */
export function announcementTxt(fingerprint: string): Record<string, string> {
  return { v: DISCOVERY_VERSION, fp: fingerprint };
}

/**
 * The instance name: the coordinator's name and the start of its fingerprint, so two
 * coordinators named alike do not collide (bonjour-service gives up on a name already in
 * use). DNS labels are at most 63 bytes, and bonjour-service turns dots into dashes.
 */
export function instanceName(name: string, fingerprint: string): string {
  const label = name.replace(/[\u0000-\u001f\u007f.]/g, '-').slice(0, 40);
  return `${label} ${fingerprint.slice(0, 12)}`;
}

/** One coordinator seen on the network, as the browser reports it. */
export interface Sighting {
  /** Its DNS-SD full name, stable while it runs (`lobby 3f1c2a9b00e1._nvid._tcp.local`). */
  readonly fqdn: string;
  readonly name: string;
  /** Where to connect: the address its answer came from. */
  readonly host: string;
  readonly port: number;
  readonly txt: Readonly<Record<string, unknown>> | undefined;
}

/** The fingerprint a node will join, and where it came from (for the log and the refusal). */
export interface Expected {
  readonly fingerprint: string;
  readonly source: string;
}

export type Judgement =
  | { readonly verdict: 'join'; readonly fingerprint: string }
  /** Nobody gave a fingerprint: the person at the node must confirm this one (or pass it). */
  | { readonly verdict: 'ask'; readonly fingerprint: string }
  | { readonly verdict: 'refuse'; readonly error: NvidError };

/** The fingerprint a TXT record announces, normalised; undefined when absent or not 64 hex digits. */
export function announcedFingerprint(txt: Sighting['txt']): string | undefined {
  const fp = txt?.fp;
  if (typeof fp !== 'string') return undefined;
  const normal = normaliseFingerprint(fp);
  return /^[0-9a-f]{64}$/.test(normal) ? normal : undefined;
}

/** Decides what to do about one sighting; `expected` is the fingerprint given (flag, config or recorded), if any. */
export function judgeSighting(sighting: Sighting, expected: Expected | undefined): Judgement {
  const where = `${sighting.host}:${sighting.port}`;
  const details = { address: where, instance: sighting.fqdn };
  const version = sighting.txt?.v;
  if (version !== DISCOVERY_VERSION) {
    const error = new NvidError('NVID_ERR_COORDINATOR_MISMATCH', `the coordinator "${sighting.name}" at ${where} announces discovery version ${JSON.stringify(version ?? null)}; this node speaks ${DISCOVERY_VERSION}`, { details });
    return { verdict: 'refuse', error };
  }
  const announced = announcedFingerprint(sighting.txt);
  if (announced === undefined) {
    return { verdict: 'refuse', error: new NvidError('NVID_ERR_COORDINATOR_MISMATCH', `the coordinator "${sighting.name}" at ${where} announces no valid fingerprint (TXT fp)`, { details }) };
  }
  if (expected === undefined) return { verdict: 'ask', fingerprint: announced };
  if (announced === expected.fingerprint) return { verdict: 'join', fingerprint: announced };
  const error = new NvidError(
    'NVID_ERR_COORDINATOR_MISMATCH',
    `not joining the coordinator "${sighting.name}" found by mDNS at ${where}: it announces fingerprint ${announced}, but ${expected.fingerprint} is expected (${expected.source})`,
    { details: { ...details, announced, expected: expected.fingerprint, source: expected.source } },
  );
  return { verdict: 'refuse', error };
}

/** Why a coordinator nobody vouched for is not joined when there is no terminal to ask on. */
export function unconfirmedError(sighting: Sighting, fingerprint: string): NvidError {
  return new NvidError(
    'NVID_ERR_COORDINATOR_UNCONFIRMED',
    `not joining the coordinator "${sighting.name}" found by mDNS at ${sighting.host}:${sighting.port} (fingerprint ${fingerprint}): mDNS is unauthenticated, ` +
      'and no fingerprint was given and there is no terminal to confirm it on. Compare it with the fingerprint the coordinator logs at start, then pass it: ' +
      `nvid node --coordinator-fingerprint ${fingerprint} (or set transport.coordinator.fingerprint)`,
    { details: { address: `${sighting.host}:${sighting.port}`, instance: sighting.fqdn, announced: fingerprint } },
  );
}

/** The question put to the person at the node. */
export function confirmQuestion(sighting: Sighting, fingerprint: string): string {
  const grouped = fingerprint.match(/.{1,4}/g)!.join(' ');
  return (
    `\nA coordinator "${sighting.name}" at ${sighting.host}:${sighting.port} announces itself on the network (mDNS) with certificate fingerprint\n  ${grouped}\n` +
    'mDNS is unauthenticated: compare this with the fingerprint the coordinator logs at start. Join it and remember it? [y/N] '
  );
}
