/**
 * `nvid send`: asks the node to send a file and follows it. On a terminal it
 * draws a progress bar (bytes, rate, time left); with `--json` every step is
 * one JSON line (`start`, `progress`, and last the result or the error), so a
 * script can follow a long send as it happens. Ctrl-C hangs up the control
 * connection, which cancels the send on the node: the receiver keeps nothing.
 *
 * A send to a group (`--to lobby,kitchen`, `tag:floor-2`, `all`) streams
 * `start` and `progress` lines per recipient (each names it in `to`) and ends
 * with one `group-sent` line listing every recipient's outcome; the exit code
 * is 0 when all verified, 9 when some did, else the code of the failure.
 */
import { callControl } from '../control/client.js';
import { NvidError } from '../errors.js';
import type { GroupSendResult, SendProgress, SendResult, SendStart } from '../types.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { formatBytes } from '../byte-size.js';
import { formatGroupSent, formatSent } from './format.js';

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
  /** Recipients of a group send: the bar shows the bytes of all of them together. */
  readonly #group = new Map<string, { bytes: number; total: number }>();
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
    if (event === 'start') {
      const start = data as SendStart;
      this.#group.set(start.transferId, { bytes: 0, total: start.total });
      this.#peerName = this.#group.size > 1 ? `${this.#group.size} peers` : start.to.name;
    }
    if (event !== 'progress' || !this.#output.tty) return;
    const progress = this.#combined(data as SendProgress);
    const done = progress.bytes >= progress.total;
    process.stderr.write(`\r${formatProgressBar(progress, this.#peerName)}\x1b[K${done ? '\n' : ''}`);
    this.barOpen = !done;
  };

  /** One bar for every recipient that started: their bytes added up. */
  #combined(progress: SendProgress): SendProgress {
    if (this.#group.size <= 1) return progress;
    const entry = this.#group.get(progress.transferId);
    if (entry) entry.bytes = progress.bytes;
    let bytes = 0;
    let total = 0;
    for (const e of this.#group.values()) {
      bytes += e.bytes;
      total += e.total;
    }
    const { secondsLeft: _left, ...rest } = progress;
    return { ...rest, bytes, total };
  }
}

/** What the node answers for a group target: one outcome per recipient. */
type GroupAnswer = GroupSendResult & { readonly group: true };

function isGroupAnswer(result: unknown): result is GroupAnswer {
  return typeof result === 'object' && result !== null && (result as { group?: unknown }).group === true;
}

/** Prints a group send's outcome and exits: 0 all verified, 9 some, else the first failure's code. */
function finishGroup(answer: GroupAnswer, json: boolean, barOpen: boolean): void {
  const { group: _group, ...result } = answer;
  if (json) writeJsonLine({ event: 'group-sent', ...result });
  else process.stdout.write(`${barOpen ? '\n' : ''}${formatGroupSent(result)}\n`);
  if (result.failed === 0) return;
  const firstFailure = result.results.find((r) => r.outcome === 'failed');
  process.exitCode = result.delivered > 0 ? EXIT.partial : exitCodeFor(firstFailure?.outcome === 'failed' ? firstFailure.error.code : undefined);
}

/** Runs the send; resolves with the result, or exits the process on Ctrl-C. */
export async function sendCommand(socketPath: string, file: string, to: string, json: boolean): Promise<void> {
  const follower = new SendFollower({ json, tty: Boolean(process.stderr.isTTY) });
  const hangUp = new AbortController();
  const onInterrupt = () => hangUp.abort();
  process.once('SIGINT', onInterrupt);
  try {
    const answer = await callControl(socketPath, 'send', { file, to }, { onEvent: follower.onEvent, signal: hangUp.signal });
    if (isGroupAnswer(answer)) {
      finishGroup(answer, json, follower.barOpen);
      return;
    }
    const result = answer as SendResult;
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
