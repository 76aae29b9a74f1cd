/**
 * The node's side of discovery on the network: browses for `_nvid._tcp` and
 * hands every coordinator seen to the chooser, which decides whether to join.
 */
import type { Bonjour, Browser, Service } from 'bonjour-service';
import { SERVICE_TYPE, type Sighting } from './announcement.js';
import { CoordinatorChooser, type ChooserOptions, type DiscoveredCoordinator } from './chooser.js';
import { closeMdns, openMdns } from './mdns-instance.js';
import type { MulticastOptions } from './multicast.js';

export interface BrowseOptions extends ChooserOptions {
  readonly multicast: MulticastOptions;
  /** First re-query after this long; each next one waits twice as long, up to an hour (RFC 6762, 5.2). */
  readonly requeryMs?: number;
}

const MAX_REQUERY_MS = 60 * 60 * 1000;

/** A browser's service as a sighting; undefined when it says nowhere to connect. */
export function sightingOf(service: Pick<Service, 'fqdn' | 'name' | 'port' | 'referer' | 'addresses' | 'txt'>): Sighting | undefined {
  // The answer's source address is on the interface we browse on, so it is reachable from here;
  // the A records list every address of the coordinator's machine, reachable or not.
  const host = service.referer?.address ?? service.addresses?.find((a) => !a.includes(':'));
  if (!host || !service.port) return undefined;
  return { fqdn: service.fqdn, name: service.name, host, port: service.port, txt: service.txt as Sighting['txt'] };
}

export class CoordinatorBrowser {
  private readonly options: BrowseOptions;
  private readonly chooser: CoordinatorChooser;
  private bonjour: Bonjour | undefined;
  private browser: Browser | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: BrowseOptions) {
    this.options = options;
    this.chooser = new CoordinatorChooser(options);
  }

  /** The chosen coordinator, where it was last seen; undefined until one is chosen. */
  get coordinator(): DiscoveredCoordinator | undefined {
    return this.chooser.coordinator;
  }

  start(): void {
    const { log, multicast } = this.options;
    this.bonjour = openMdns(multicast, log);
    const browser = this.bonjour.find({ type: SERVICE_TYPE });
    this.browser = browser;
    const consider = (service: Service) => {
      const sighting = sightingOf(service);
      if (sighting) this.chooser.consider(sighting);
    };
    browser.on('up', consider);
    browser.on('srv-update', consider);
    browser.on('txt-update', consider);
    const where = multicast.interface ?? 'every interface';
    log.info({ interface: where }, `looking for a coordinator on mDNS (_nvid._tcp) on ${where}`);
    this.requery(this.options.requeryMs ?? 1000);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.chooser.stop();
    this.browser?.stop();
    this.browser = undefined;
    const bonjour = this.bonjour;
    this.bonjour = undefined;
    if (bonjour) await closeMdns(bonjour);
  }

  /** Asks again now and then: the coordinator's own announcements may have been lost. */
  private requery(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.browser?.update();
      this.requery(Math.min(delayMs * 2, MAX_REQUERY_MS));
    }, delayMs);
    this.timer.unref();
  }
}
