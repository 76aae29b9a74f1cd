/**
 * The tests' view of harness/nats-server.ts, which the benches share: a private
 * nats-server with JetStream on a port of its own.
 */
export * from '../../harness/nats-server.js';
