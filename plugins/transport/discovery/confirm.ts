/**
 * "One the person confirms on first use": the question is asked on the
 * terminal the node was started from, and only there. A node under systemd or
 * in a test has none, so it never waits for an answer nobody can give.
 */
import { createInterface } from 'node:readline/promises';
import type { Confirm } from './chooser.js';

/** Asks y/N on stdin/stderr (the log's stream); undefined when either is not a terminal. */
export function terminalConfirm(input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Confirm | undefined {
  if (!input.isTTY || !output.isTTY) return undefined;
  return async (question, signal) => {
    const rl = createInterface({ input, output });
    try {
      const answer = await rl.question(question, { signal });
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  };
}
