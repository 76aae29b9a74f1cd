/**
 * One bonjour-service instance (one multicast-dns socket) whose failures are
 * logged, never thrown: by default bonjour-service throws from its socket
 * callbacks and multicast-dns emits `error` with no listener, either of which
 * would take the whole daemon down over a lost datagram.
 */
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Bonjour } from 'bonjour-service';
import type { Logger } from 'pino';
import type { MulticastOptions } from './multicast.js';

/**
 * bonjour-service, loaded the first time discovery is on: held in every
 * daemon, with discovery off by default, it took 3-8 MiB of resident memory
 * for nothing.
 */
const loadBonjour = () => (createRequire(import.meta.url)('bonjour-service') as typeof import('bonjour-service')).Bonjour;

export function openMdns(options: MulticastOptions, log: Logger): Bonjour {
  const BonjourService = loadBonjour();
  // bonjour-service types its first argument as a service config; it is multicast-dns's options.
  const socketOptions = { ...options } as unknown as ConstructorParameters<typeof BonjourService>[0];
  const bonjour = new BonjourService(socketOptions, (err: Error) => log.warn({ err: err.message }, `mDNS: ${err.message}`));
  // Not in bonjour-service's types: the multicast-dns socket it wraps.
  const socket = (bonjour as unknown as { server: { mdns: EventEmitter } }).server.mdns;
  socket.on('error', (err: Error) => log.error({ err: err.message }, `mDNS socket failed: ${err.message}; discovery stops`));
  socket.on('warning', (err: Error) => log.debug({ err: err.message }, `mDNS: ${err.message}`));
  return bonjour;
}

/** Closes the socket; resolves once it is closed. */
export function closeMdns(bonjour: Bonjour): Promise<void> {
  return new Promise((resolve) => bonjour.destroy(() => resolve()));
}
