/**
 * Structured logs (pino): one JSON object per line on stderr, so stdout stays
 * free for command output. Synchronous writes keep the last lines before a crash.
 */
import { pino, type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: 2, sync: true }));
}
