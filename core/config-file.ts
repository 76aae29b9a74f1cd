/**
 * Reading a config file, and where its state folder is: no schema, no ajv,
 * so the command-line client can find a node's control socket in a few
 * milliseconds (loading and compiling the full config schema took about
 * 0.1 s of every `nvid send`). The daemon checks the whole file at start.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { NvidError } from './errors.js';
import type { Role } from './types.js';

/** `$XDG_STATE_HOME/nvid/<role>`, else `~/.local/state/nvid/<role>`. */
export function defaultStateDir(role: Role): string {
  const base = process.env.XDG_STATE_HOME && isAbsolute(process.env.XDG_STATE_HOME) ? process.env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(base, 'nvid', role);
}

export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new NvidError('NVID_ERR_CONFIG_READ', `cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new NvidError('NVID_ERR_CONFIG_READ', `config file ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** The state folder: `override` (`--state`), else the config's `stateDir` (relative to the config file), else the default. */
export function resolveStateDir(role: Role, data: Record<string, unknown>, baseDir: string, override?: string): string {
  if (override) return resolve(override);
  return typeof data.stateDir === 'string' && data.stateDir.length > 0 ? resolve(baseDir, data.stateDir) : defaultStateDir(role);
}

/**
 * The state folder named by the config file `file` (or the default), for
 * client commands. Only that field is read; a config that is not a JSON
 * object, or whose `stateDir` is not a non-empty string, returns undefined so
 * the caller can run the full check for its message.
 */
export function stateDirFromConfigFile(role: Role, file: string | undefined): string | undefined {
  if (!file) return defaultStateDir(role);
  const data = readConfigFile(file);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const { stateDir } = data as Record<string, unknown>;
  if (stateDir !== undefined && (typeof stateDir !== 'string' || stateDir.length === 0)) return undefined;
  return resolveStateDir(role, data as Record<string, unknown>, dirname(resolve(file)));
}
