/**
 * nvid's systemd units as the tests see them: rendered by scripts/install-systemd.sh
 * (the same substitution a user gets), checked by `systemd-analyze verify`, and
 * their ExecStart lines read back as argument lists.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './nvid.js';

export type UnitMode = 'system' | 'user';

/** The path of systemd-analyze, or undefined when this machine has none. */
export function findSystemdAnalyze(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** Writes the units of `mode` into `dest`, pointed at this checkout and this Node.js. */
export function renderUnits(mode: UnitMode, dest: string): void {
  const args = [join(REPO_ROOT, 'scripts', 'install-systemd.sh'), ...(mode === 'user' ? ['--user'] : []), '--dest', dest, '--node', process.execPath];
  execFileSync('bash', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * `systemd-analyze verify` on unit files. It exits 0 on unknown keys and bad values
 * (it only warns), so anything it prints counts as a complaint. User units need a
 * runtime folder for the user manager it simulates; `scratch` gives it one.
 */
export function verifyUnits(mode: UnitMode, files: string[], scratch: string): { code: number | null; complaints: string } {
  const runtime = join(scratch, 'runtime');
  mkdirSync(runtime, { recursive: true, mode: 0o700 });
  const result = spawnSync('systemd-analyze', [...(mode === 'user' ? ['--user'] : []), 'verify', ...files], {
    encoding: 'utf8',
    env: { ...process.env, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_COLOR: '0' },
  });
  return { code: result.status, complaints: `${result.stdout}${result.stderr}`.trim() };
}

/** The key=value lines of a unit file (all sections, comments dropped), in order. */
export function unitSettings(file: string): Array<[string, string]> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#') && !line.startsWith('['))
    .map((line) => {
      const at = line.indexOf('=');
      return [line.slice(0, at), line.slice(at + 1)] as [string, string];
    });
}

/** The value of `key` in a unit file (the last one wins, as in systemd), or undefined. */
export function unitSetting(file: string, key: string): string | undefined {
  return unitSettings(file).filter(([k]) => k === key).pop()?.[1];
}

/**
 * A unit's ExecStart as an argument list, with specifiers and the fixed folders
 * replaced as `expand` says. The units quote nothing, so splitting on spaces is exact.
 */
export function execStartArgs(file: string, expand: Record<string, string>): string[] {
  const line = unitSetting(file, 'ExecStart');
  if (!line) throw new Error(`${file} has no ExecStart`);
  let expanded = line;
  for (const [from, to] of Object.entries(expand)) expanded = expanded.split(from).join(to);
  return expanded.split(/\s+/);
}

/** The value after `flag` in an argument list; throws when the flag is not there. */
export function flagValue(args: string[], flag: string): string {
  const at = args.indexOf(flag);
  if (at < 0 || at + 1 >= args.length) throw new Error(`no ${flag} in: ${args.join(' ')}`);
  return args[at + 1]!;
}
