/**
 * The tests' view of harness/nvid.ts, which the demo and benches share: real nvid
 * processes, an X server and what is on it, for whoever needs to run them.
 */
export * from '../../harness/nvid.js';
