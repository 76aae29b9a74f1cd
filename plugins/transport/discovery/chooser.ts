/**
 * Which discovered coordinator a node joins, without a socket in sight: the
 * one whose announced fingerprint it was given, or (with none given) one the
 * person at the node confirms. Every other coordinator seen is refused once,
 * with the reason. Once one is chosen, later sightings of the same fingerprint
 * only update where it is, so the node follows it when it moves.
 */
import type { Logger } from 'pino';
import type { NvidError } from '../../../core/errors.js';
import { announcedFingerprint, confirmQuestion, judgeSighting, unconfirmedError, type Expected, type Sighting } from './announcement.js';

/** The coordinator chosen, where it was last seen. */
export interface DiscoveredCoordinator {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly fingerprint: string;
  /** Why it is trusted: the source of the expected fingerprint, or the person's confirmation. */
  readonly source: string;
}

/** Asks the person at the node a yes/no question; aborted when the node stops. */
export type Confirm = (question: string, signal: AbortSignal) => Promise<boolean>;

export interface ChooserOptions {
  /** The fingerprint to join (flag, config, or recorded on an earlier confirmation); undefined = ask. */
  readonly expected: Expected | undefined;
  /** How to ask; undefined without a terminal, and then a coordinator nobody vouched for is refused. */
  readonly confirm: Confirm | undefined;
  readonly log: Logger;
  /** Called once, with the coordinator to join. */
  readonly chosen: (coordinator: DiscoveredCoordinator) => void;
  /** A coordinator not joined, with why; once per coordinator instance and fingerprint. */
  readonly refused: (err: NvidError) => void;
}

export class CoordinatorChooser {
  private readonly options: ChooserOptions;
  private current: DiscoveredCoordinator | undefined;
  /** Instance-and-fingerprint pairs already judged: each is refused or asked about once. */
  private readonly judged = new Set<string>();
  /** The latest sighting of each instance, so a confirmation given later joins where it is now. */
  private readonly latest = new Map<string, Sighting>();
  /** Questions go to the person one at a time. */
  private questions: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();

  constructor(options: ChooserOptions) {
    this.options = options;
  }

  /** The chosen coordinator, where it was last seen; undefined until one is chosen. */
  get coordinator(): DiscoveredCoordinator | undefined {
    return this.current;
  }

  /** Settles once every question asked so far is answered (for tests, and a clean stop). */
  idle(): Promise<void> {
    return this.questions;
  }

  /** Stops asking: an open question is dropped, and nothing more is chosen. */
  stop(): void {
    this.abort.abort();
  }

  /** A coordinator announced itself (again). */
  consider(sighting: Sighting): void {
    if (this.abort.signal.aborted) return;
    this.latest.set(sighting.fqdn, sighting);
    const announced = announcedFingerprint(sighting.txt);
    if (this.current) {
      if (announced === this.current.fingerprint) this.follow(sighting);
      return;
    }
    const key = `${sighting.fqdn} ${announced ?? '-'}`;
    if (this.judged.has(key)) return;
    this.judged.add(key);
    const judgement = judgeSighting(sighting, this.options.expected);
    if (judgement.verdict === 'join') this.choose(sighting, judgement.fingerprint, this.options.expected!.source);
    else if (judgement.verdict === 'refuse') this.refuse(judgement.error);
    else if (!this.options.confirm) this.refuse(unconfirmedError(sighting, judgement.fingerprint));
    else this.ask(sighting.fqdn, judgement.fingerprint);
  }

  private ask(fqdn: string, fingerprint: string): void {
    const confirm = this.options.confirm!;
    const { signal } = this.abort;
    this.questions = this.questions.then(async () => {
      if (this.current || signal.aborted) return;
      const asked = this.latest.get(fqdn)!;
      const yes = await confirm(confirmQuestion(asked, fingerprint), signal).catch(() => false);
      if (signal.aborted) return;
      const now = this.latest.get(fqdn)!;
      if (yes) this.choose(now, fingerprint, 'confirmed at the terminal');
      else this.options.log.warn({ instance: fqdn, fingerprint }, `not joining the coordinator "${now.name}" at ${now.host}:${now.port}: not confirmed`);
    });
  }

  private choose(sighting: Sighting, fingerprint: string, source: string): void {
    if (this.current) return;
    this.current = { name: sighting.name, host: sighting.host, port: sighting.port, fingerprint, source };
    const where = `${sighting.host}:${sighting.port}`;
    this.options.log.info({ coordinator: where, fingerprint, source }, `found coordinator "${sighting.name}" at ${where} by mDNS, fingerprint ${fingerprint} (${source})`);
    this.options.chosen(this.current);
  }

  /** The chosen coordinator announced itself again: follow it if it moved. */
  private follow(sighting: Sighting): void {
    const current = this.current!;
    if (sighting.host === current.host && sighting.port === current.port) return;
    this.current = { ...current, name: sighting.name, host: sighting.host, port: sighting.port };
    this.options.log.info({ coordinator: `${sighting.host}:${sighting.port}` }, `coordinator "${sighting.name}" now announces ${sighting.host}:${sighting.port}`);
  }

  private refuse(error: NvidError): void {
    this.options.log.error({ code: error.code, ...error.details }, error.message);
    this.options.refused(error);
  }
}
