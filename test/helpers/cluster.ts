/**
 * The tests' view of harness/cluster.ts, which the demo and benches share: real nvid
 * processes, an X server and what is on it, for whoever needs to run them.
 */
export * from '../../harness/cluster.js';
