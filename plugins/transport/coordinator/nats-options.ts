/**
 * The coordinator's `directory` option: `memory` (the default, nothing to run)
 * or a NATS JetStream key-value bucket shared by several coordinators, with
 * the connection's credentials and TLS. Also the digest of the admission
 * policy each coordinator publishes, so coordinators that disagree are seen.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { NodeConnectionOptions } from '@nats-io/transport-node';

export interface NatsDirectoryOptions {
  /** NATS URLs (`nats://host:4222`, `tls://host:4222`); the client fails over between them. */
  readonly servers: readonly string[];
  /** The key-value bucket; every coordinator that shares a directory names the same one. */
  readonly bucket: string;
  /** How long an entry outlives its coordinator: entries are refreshed every third of it, a dead coordinator's nodes expire after it. */
  readonly ttlMs: number;
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  /** A NATS `.creds` file (user JWT and NKey seed), as made by `nsc`. */
  readonly credsFile?: string;
  /** TLS to NATS: the CA that signed the server's certificate, and a client certificate when the server asks for one. */
  readonly tls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };
}

/** As written in the config: bucket and ttlMs may be left out. */
export type DirectoryOption = 'memory' | { readonly nats: Omit<NatsDirectoryOptions, 'bucket' | 'ttlMs'> & { readonly bucket?: string; readonly ttlMs?: number } };

export const DEFAULT_BUCKET = 'nvid-directory';
export const DEFAULT_TTL_MS = 15_000;

export function withDefaults(nats: Extract<DirectoryOption, object>['nats']): NatsDirectoryOptions {
  return { ...nats, bucket: nats.bucket ?? DEFAULT_BUCKET, ttlMs: nats.ttlMs ?? DEFAULT_TTL_MS };
}

export const DIRECTORY_SCHEMA = {
  description: "coordinator: where the address book lives. 'memory' (default): in this process. { nats: {...} }: a NATS JetStream key-value bucket shared by every coordinator configured with it",
  default: 'memory',
  oneOf: [
    { const: 'memory' },
    {
      type: 'object',
      additionalProperties: false,
      required: ['nats'],
      properties: {
        nats: {
          type: 'object',
          additionalProperties: false,
          required: ['servers'],
          properties: {
            servers: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
            // JetStream stream names (KV_<bucket>) allow letters, digits, - and _ only.
            // No defaults here: ajv fills none inside oneOf; withDefaults() does.
            bucket: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
            ttlMs: { type: 'integer', minimum: 1000 },
            user: { type: 'string', minLength: 1 },
            pass: { type: 'string' },
            token: { type: 'string', minLength: 1 },
            credsFile: { type: 'string', minLength: 1 },
            tls: {
              type: 'object',
              additionalProperties: false,
              properties: { caFile: { type: 'string', minLength: 1 }, certFile: { type: 'string', minLength: 1 }, keyFile: { type: 'string', minLength: 1 } },
            },
          },
          // One way to authenticate: two would leave it unclear which one NATS checked.
          not: { anyOf: [{ required: ['token', 'user'] }, { required: ['token', 'credsFile'] }, { required: ['user', 'credsFile'] }] },
        },
      },
    },
  ],
} as const;

/**
 * The client's connection options. It reconnects without end (a coordinator
 * outlives a NATS restart), and fails the first connect rather than waiting,
 * so a coordinator pointed at the wrong place says so at start.
 */
export async function natsConnectionOptions(o: NatsDirectoryOptions, name: string): Promise<NodeConnectionOptions> {
  const options: NodeConnectionOptions = { servers: [...o.servers], name, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: 5000 };
  if (o.user !== undefined) options.user = o.user;
  if (o.pass !== undefined) options.pass = o.pass;
  if (o.token !== undefined) options.token = o.token;
  if (o.credsFile !== undefined) {
    const { credsAuthenticator } = await import('@nats-io/transport-node');
    options.authenticator = credsAuthenticator(readFileSync(o.credsFile));
  }
  if (o.tls) options.tls = { ...o.tls };
  return options;
}

/**
 * A digest of the admission policy (the token only as its hash), equal on two
 * coordinators exactly when they admit the same nodes.
 */
export function admissionDigest(admission: { readonly policy: string; readonly token?: string; readonly fingerprints?: readonly string[] }): string {
  const canonical = {
    policy: admission.policy,
    token: admission.policy === 'token' ? createHash('sha256').update(admission.token ?? '').digest('hex') : null,
    fingerprints: admission.policy === 'fingerprints' ? [...(admission.fingerprints ?? [])].map((f) => f.replace(/[:\s]/g, '').toLowerCase()).sort() : null,
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex').slice(0, 16);
}
