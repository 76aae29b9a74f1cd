/**
 * The coordinator's side of discovery: announces `_nvid._tcp` on its port with
 * its certificate fingerprint in the TXT record, answers queries for it, and
 * says goodbye on stop so nodes drop it at once instead of at the TTL.
 */
import type { Bonjour, Service } from 'bonjour-service';
import type { Logger } from 'pino';
import { announcementTxt, instanceName, SERVICE_TYPE } from './announcement.js';
import { closeMdns, openMdns } from './mdns-instance.js';
import type { MulticastOptions } from './multicast.js';

export interface AnnounceOptions {
  readonly multicast: MulticastOptions;
  readonly log: Logger;
}

export class CoordinatorAnnouncer {
  private readonly options: AnnounceOptions;
  private bonjour: Bonjour | undefined;
  private service: Service | undefined;

  constructor(options: AnnounceOptions) {
    this.options = options;
  }

  /** Starts announcing; does not wait for the first announcement (a probe takes up to a second). */
  start(coordinator: { readonly name: string; readonly port: number; readonly fingerprint: string }): void {
    const { log, multicast } = this.options;
    this.bonjour = openMdns(multicast, log);
    const name = instanceName(coordinator.name, coordinator.fingerprint);
    this.service = this.bonjour.publish({
      name,
      type: SERVICE_TYPE,
      port: coordinator.port,
      txt: announcementTxt(coordinator.fingerprint),
      // The group is joined over IPv4 only; AAAA records would only list addresses nobody is told to use.
      disableIPv6: true,
    });
    const where = multicast.interface ?? 'every interface';
    this.service.on('up', () => log.info({ instance: name, port: coordinator.port, interface: where }, `announcing the coordinator on mDNS (_nvid._tcp) on ${where}`));
    this.service.on('error', (err: Error) => log.warn({ err: err.message }, `mDNS announcement failed: ${err.message}`));
  }

  /** Says goodbye (TTL 0) and closes the socket. */
  async stop(): Promise<void> {
    const bonjour = this.bonjour;
    if (!bonjour) return;
    this.bonjour = undefined;
    const service = this.service;
    this.service = undefined;
    if (service) await new Promise<void>((resolve) => service.stop(() => resolve()));
    await closeMdns(bonjour);
  }
}
