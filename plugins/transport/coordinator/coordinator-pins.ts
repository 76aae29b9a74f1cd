/**
 * Known coordinators, like ssh's known_hosts: one line per coordinator address
 * with the fingerprint first seen there. Trust on first use, then enforce.
 *
 *   # comment
 *   127.0.0.1:7700 3f1c...e9   (host:port, a space, 64 hex digits)
 *   mdns:_nvid._tcp 3f1c...e9  (the coordinator discovery joins, wherever it is)
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { NvidError } from '../../../core/errors.js';

export const KNOWN_COORDINATORS_FILE = 'known_coordinators';
/**
 * The line for the coordinator chosen by mDNS discovery: it is known by its fingerprint,
 * wherever it is found, so its line names the service instead of an address.
 */
export const DISCOVERY_PIN = 'mdns:_nvid._tcp';

export type PinDecision = { readonly outcome: 'trusted' | 'pinned-now' };

export class CoordinatorPins {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /** The fingerprint recorded for `address` (host:port), if any. */
  lookup(address: string): string | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    for (const line of text.split('\n')) {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      const [where, fingerprint] = trimmed.split(/\s+/);
      if (where === address && fingerprint) return fingerprint.toLowerCase();
    }
    return undefined;
  }

  /**
   * Checks the fingerprint a coordinator at `address` presented.
   * `configured` (from the config file) wins over the file; with neither, the
   * fingerprint is recorded (trust on first use). Throws
   * NVID_ERR_COORDINATOR_MISMATCH with what to check on a mismatch.
   */
  check(address: string, presented: string, configured?: string): PinDecision {
    if (configured !== undefined) {
      if (configured === presented) return { outcome: 'trusted' };
      throw new NvidError(
        'NVID_ERR_COORDINATOR_MISMATCH',
        `the coordinator at ${address} presented certificate ${presented}, but ${configured} is pinned (by transport.coordinator.fingerprint, this address's entry in transport.coordinators, nvid node --coordinator-fingerprint, or the choice mDNS discovery made). ` +
          'Check that the address points at your coordinator; if its identity was replaced on purpose, put the new fingerprint (shown by its log at start) in the config.',
        { details: { address, presented, expected: configured, source: 'config' } },
      );
    }
    const known = this.lookup(address);
    if (known === undefined) {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      appendFileSync(this.path, `${address} ${presented}\n`, { mode: 0o600 });
      return { outcome: 'pinned-now' };
    }
    if (known === presented) return { outcome: 'trusted' };
    throw new NvidError(
      'NVID_ERR_COORDINATOR_MISMATCH',
      `the coordinator at ${address} presented certificate ${presented}, but ${known} was recorded there on first use (${this.path}). ` +
        'Something else may be answering at that address. If the coordinator was reinstalled on purpose, delete its line from that file (or set transport.coordinator.fingerprint) and restart.',
      { details: { address, presented, expected: known, source: this.path } },
    );
  }
}
