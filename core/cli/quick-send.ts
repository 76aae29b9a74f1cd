/**
 * `nvid send FILE --to TARGET [--json] [--config FILE | --state DIR]` without
 * the full command-line parser. Loading yargs and every command's modules
 * took about as long as Node's own start-up, and a push to a screen is the
 * command people sit and wait on. Any other shape (help, another option, a
 * mistake) is left to the full parser, with its usual messages.
 */
import { resolve } from 'node:path';
import { stateDirFromConfigFile } from '../config-file.js';
import { statePaths } from '../state-paths.js';
import { fail } from './fail.js';
import { sendCommand } from './send-command.js';

export interface QuickSend {
  readonly file: string;
  readonly to: string;
  readonly json: boolean;
  readonly config?: string;
  readonly state?: string;
}

const VALUED = new Map([
  ['--to', 'to'],
  ['-t', 'to'],
  ['--config', 'config'],
  ['-c', 'config'],
  ['--state', 'state'],
] as const);

/** The send these words (after `send`) ask for, or undefined when they are anything but this plain shape. */
export function parseQuickSend(words: readonly string[]): QuickSend | undefined {
  const values: { to?: string; config?: string; state?: string } = {};
  let file: string | undefined;
  let json = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const [flag, inline] = eq > 0 ? [word.slice(0, eq), word.slice(eq + 1)] : [word, undefined];
    const key = VALUED.get(flag as never);
    if (key) {
      const value = inline ?? words[++i];
      if (value === undefined || value === '' || values[key] !== undefined) return undefined;
      values[key] = value;
    } else if (word === '--json') json = true;
    else if (word.startsWith('-') || file !== undefined) return undefined;
    else file = word;
  }
  if (file === undefined || values.to === undefined) return undefined;
  return { file, to: values.to, json, ...(values.config ? { config: values.config } : {}), ...(values.state ? { state: values.state } : {}) };
}

/**
 * Runs `nvid send` if the words have the plain shape; false to leave them to
 * the full parser (also when the state folder needs the full config loader).
 */
export async function quickSend(words: readonly string[]): Promise<boolean> {
  const send = parseQuickSend(words);
  if (!send) return false;
  try {
    const stateDir = send.state ? resolve(send.state) : stateDirFromConfigFile('node', send.config);
    if (!stateDir) return false;
    await sendCommand(statePaths(stateDir).controlSocket, resolve(send.file), send.to, send.json);
  } catch (err) {
    fail(err, send.json);
  }
  return true;
}
