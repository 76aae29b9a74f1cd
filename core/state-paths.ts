/**
 * Where things live in a state folder. Its own module so the command-line
 * client can find a node's control socket without loading the daemon.
 */
import { join } from 'node:path';

/** The layout of the state folder. */
export function statePaths(stateDir: string) {
  return {
    identityDir: join(stateDir, 'identity'),
    history: join(stateDir, 'history.jsonl'),
    libraryDir: join(stateDir, 'library'),
    incomingDir: join(stateDir, 'incoming'),
    /** Envelopes sealed for a send that may be resumed (see pipeline/outbox.ts). */
    outboxDir: join(stateDir, 'outbox'),
    controlSocket: join(stateDir, 'control.sock'),
    receivedIndex: join(stateDir, 'received.jsonl'),
    trust: join(stateDir, 'trust.json'),
  };
}
