/**
 * `nvid send`: asks the node to send a file and follows it. On a terminal it
 * draws a progress bar (bytes, rate, time left); with `--json` every step is
 * one JSON line (`start`, `progress`, and last the result or the error), so a
 * script can follow a long send as it happens. Ctrl-C hangs up the control
 * connection, which cancels the send on the node: the receiver keeps nothing.
 */
import { callControl } from '../control/client.js';
import { NvidError } from '../errors.js';
import type { SendProgress, SendResult, SendStart } from '../types.js';
import { EXIT } from './exit-codes.js';
import { formatBytes } from '../byte-size.js';
import { formatSent } from './format.js';

const BAR_WIDTH = 30;

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min ${Math.round(seconds % 60)} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** One line of progress: `[#####.....] 42% 1.2 GiB / 2.9 GiB  118.0 MiB/s  15 s left  to lobby`. */
export function formatProgressBar(progress: SendProgress, peerName: string): string {
  const fraction = progress.total > 0 ? Math.min(1, progress.bytes / progress.total) : 1;
  const bar = '#'.repeat(Math.round(fraction * BAR_WIDTH)).padEnd(BAR_WIDTH, '.');
  const rate = progress.rate > 0 ? `  ${formatBytes(progress.rate)}/s` : '';
  const left = progress.secondsLeft !== undefined && fraction < 1 ? `  ${formatDuration(progress.secondsLeft)} left` : '';
  return `[${bar}] ${Math.floor(fraction * 100)}% ${formatBytes(progress.bytes)} / ${formatBytes(progress.total)}${rate}${left}  to ${peerName}`;
}

interface Output {
  readonly json: boolean;
  readonly tty: boolean;
}

function writeJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Turns the node's `start` and `progress` events into what the person or script sees. */
class SendFollower {
  readonly #output: Output;
  #peerName = '';
  /** A bar is on the terminal's last line without its newline yet. */
  barOpen = false;

  constructor(output: Output) {
    this.#output = output;
  }

  readonly onEvent = (event: string, data: unknown): void => {
    if (this.#output.json) {
      writeJsonLine({ event, ...(data as object) });
      return;
    }
    if (event === 'start') this.#peerName = (data as SendStart).to.name;
    if (event !== 'progress' || !this.#output.tty) return;
    const progress = data as SendProgress;
    const done = progress.bytes >= progress.total;
    process.stderr.write(`\r${formatProgressBar(progress, this.#peerName)}\x1b[K${done ? '\n' : ''}`);
    this.barOpen = !done;
  };
}

/** Runs the send; resolves with the result, or exits the process on Ctrl-C. */
export async function sendCommand(socketPath: string, file: string, to: string, json: boolean): Promise<void> {
  const follower = new SendFollower({ json, tty: Boolean(process.stderr.isTTY) });
  const hangUp = new AbortController();
  const onInterrupt = () => hangUp.abort();
  process.once('SIGINT', onInterrupt);
  try {
    const result = (await callControl(socketPath, 'send', { file, to }, { onEvent: follower.onEvent, signal: hangUp.signal })) as SendResult;
    if (json) writeJsonLine({ event: 'sent', ...result });
    else process.stdout.write(`${formatSent(result)}\n`);
  } catch (err) {
    if (!hangUp.signal.aborted) throw err;
    const error = new NvidError('NVID_ERR_CANCELLED', `the send of ${file} was cancelled; the receiver keeps nothing`);
    if (json) writeJsonLine({ error: error.toJSON() });
    else process.stderr.write(`${follower.barOpen ? '\n' : ''}nvid: ${error.message} [${error.code}]\n`);
    process.exit(EXIT.cancelled);
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
