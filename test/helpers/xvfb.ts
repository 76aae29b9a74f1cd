/**
 * The tests' view of harness/xvfb.ts, which the demo and benches share: real nvid
 * processes, an X server and what is on it, for whoever needs to run them.
 */
export * from '../../harness/xvfb.js';
