/**
 * The panel's options: where it listens, which hosts it answers to, TLS, and
 * how long logins and sessions last. A LAN-facing listen address without TLS
 * needs an explicit, loudly named opt-in (`insecurePlainHttpOnLan`).
 */
import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { NvidError } from '../../core/errors.js';

export interface PanelOptions {
  readonly listen: { readonly host: string; readonly port: number };
  /** Extra `Host` header values the panel answers to (`name` or `name:port`), e.g. the LAN name of this machine. */
  readonly allowedHosts: readonly string[];
  /** Certificate and key files (PEM), relative to the config file: HTTPS, and the cookie gets `Secure`. */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** Allow plain HTTP on a non-loopback address (anyone on the LAN can read the session cookie). */
  readonly insecurePlainHttpOnLan: boolean;
  readonly loginTtlMs: number;
  readonly sessionTtlMs: number;
  readonly maxConcurrentSends: number;
}

/** JSON schema of PanelOptions (ajv 8, strict). */
export const PANEL_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    listen: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        host: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'address to listen on; loopback unless tls or insecurePlainHttpOnLan is set' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 0, description: '0: an ephemeral port (nvid panel prints the link)' },
      },
    },
    allowedHosts: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, default: [], description: 'extra Host header values to answer (name or name:port)' },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['cert', 'key'],
      properties: {
        cert: { type: 'string', minLength: 1, description: 'PEM certificate file, relative to the config file' },
        key: { type: 'string', minLength: 1, description: 'PEM private key file, relative to the config file' },
      },
    },
    insecurePlainHttpOnLan: { type: 'boolean', default: false, description: 'serve plain HTTP on a non-loopback address anyway' },
    loginTtlMs: { type: 'integer', minimum: 1000, default: 600_000, description: 'how long a login link stays valid' },
    sessionTtlMs: { type: 'integer', minimum: 1000, default: 43_200_000, description: 'a session ends after this long without a request' },
    maxConcurrentSends: { type: 'integer', minimum: 1, maximum: 64, default: 4, description: 'sends the panel runs at the same time; the rest wait' },
  },
} as const;

/** Whether `host` (a listen address or a host name) only reaches this machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

/**
 * Refuses a listen address anyone on the network can reach over plain HTTP,
 * unless the config says so on purpose.
 * @throws NvidError NVID_ERR_PLUGIN_OPTIONS naming the options to set
 */
export function checkListenSafety(options: PanelOptions): void {
  if (isLoopbackHost(options.listen.host) || options.tls || options.insecurePlainHttpOnLan) return;
  throw new NvidError(
    'NVID_ERR_PLUGIN_OPTIONS',
    `panel: listen.host "${options.listen.host}" is reachable from other machines, and plain HTTP would show the session cookie to anyone on the network: ` +
      'set panel options tls: { cert, key } (PEM files), or insecurePlainHttpOnLan: true to accept that, or listen on 127.0.0.1',
  );
}

/** The TLS files, absolute (relative ones are relative to the config file's folder). */
export function resolveTlsFiles(options: PanelOptions, configDir: string): { cert: string; key: string } | undefined {
  if (!options.tls) return undefined;
  const abs = (file: string) => (isAbsolute(file) ? file : resolve(configDir, file));
  return { cert: abs(options.tls.cert), key: abs(options.tls.key) };
}
