/**
 * The socket options every mDNS instance of nvid gets, and the one rule they
 * encode: with `discovery.interface` set, multicast is sent and received on
 * that interface only. Without it multicast-dns joins the group on every
 * interface, which suits a plain LAN host but not a machine with others.
 */
import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { NvidError } from '../../../core/errors.js';

/** The mDNS IPv4 group (RFC 6762). */
export const MDNS_GROUP = '224.0.0.251';

/** What multicast-dns takes (bonjour-service passes its options through). */
export interface MulticastOptions {
  /** The interface's IPv4 address: the group is joined there only, and multicast leaves through it. */
  readonly interface?: string;
  /** Address the UDP socket binds to. */
  readonly bind?: string;
}

/**
 * The IPv4 address of `wanted` (an IPv4 address of this machine or an interface name).
 * Checked here because multicast-dns only emits a warning nobody sees for an unknown
 * address, and then discovers nothing.
 */
export function interfaceAddress(wanted: string, interfaces = networkInterfaces()): string {
  const all = Object.entries(interfaces).flatMap(([name, addrs]) => (addrs ?? []).filter((a) => a.family === 'IPv4').map((a) => ({ name, address: a.address })));
  const found = isIPv4(wanted) ? all.find((a) => a.address === wanted) : all.find((a) => a.name === wanted);
  if (found) return found.address;
  const known = all.map((a) => `${a.name} ${a.address}`).join(', ') || 'none';
  throw new NvidError('NVID_ERR_PLUGIN_OPTIONS', `transport.discovery.interface "${wanted}" is not an IPv4 address or interface of this machine (its IPv4 interfaces: ${known})`);
}

/**
 * The socket options for `discovery.interface`. The socket binds to the group address,
 * not the interface's: on Linux a socket bound to a unicast address never receives the
 * multicast datagrams (addressed to the group), which is what multicast-dns does with
 * `interface` alone (its `bind` defaults to it).
 */
export function multicastOptions(wanted: string | undefined): MulticastOptions {
  if (wanted === undefined) return {};
  return { interface: interfaceAddress(wanted), bind: MDNS_GROUP };
}
