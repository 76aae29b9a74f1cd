/**
 * A copy of the built `nvid` CLI that another user (e.g. nobody) can run, for tests that
 * check what a stranger sees. Running the checkout's own bin/nvid.js as another user only
 * works when every folder above the checkout lets others in; a clone in a 0700 home folder
 * (the superuser's home folder, say) does not. So the copy holds what the CLI loads: bin/, dist/core/,
 * dist/plugins/, package.json and the runtime packages (package.json's dependencies and
 * theirs), all readable by everyone, in a folder the test chooses.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT, type RunResult } from './nvid.js';

export interface CliForOthers {
  /** The node binary to run it with: this process's own, or a copy when others cannot reach that. */
  node: string;
  /** bin/nvid.js inside the copy. */
  bin: string;
}

interface Manifest {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** Copies the CLI into `dest` (created; its parent must let others in) for user `uid`:`gid`. */
export function copyCliForOthers(dest: string, uid: number, gid: number): CliForOthers {
  mkdirSync(dest, { recursive: true });
  for (const part of ['bin', 'package.json', 'dist/core', 'dist/plugins', ...runtimePackages()]) {
    // dereference: the checkout's node_modules may be a symlink into a folder others cannot reach.
    cpSync(join(REPO_ROOT, part), join(dest, part), { recursive: true, dereference: true });
  }
  openToAll(dest);
  let node = process.execPath;
  if (spawnSync(node, ['-e', ''], { uid, gid, stdio: 'ignore' }).status !== 0) {
    // This node sits in a private folder too (e.g. a Node fetched into node_modules/.cache).
    node = join(dest, 'node');
    copyFileSync(process.execPath, node);
    chmodSync(node, 0o755);
  }
  return { node, bin: join(dest, 'bin', 'nvid.js') };
}

/** Runs `nvid ...args` from the copy as user `uid`:`gid`. */
export function runCliAs(cli: CliForOthers, args: string[], uid: number, gid: number, timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cli.node, [cli.bin, ...args], { uid, gid, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * The runtime packages' folders relative to the repository root, found as Node finds them:
 * `node_modules/NAME` beside the package that needs it, or in a folder above. Dev packages
 * (typescript, mocha, ...) are left out: the CLI never loads them, and they are most of the size.
 */
function runtimePackages(): string[] {
  const found = new Set<string>();
  const visit = (at: string, manifest: Manifest): void => {
    const optional = { ...manifest.peerDependencies, ...manifest.optionalDependencies };
    for (const name of Object.keys({ ...manifest.dependencies, ...optional })) {
      const where = locate(at, name);
      if (where === undefined) {
        if (name in optional) continue;
        throw new Error(`package ${name}, needed by ${at === '.' ? 'nvid' : at}, is not installed`);
      }
      if (found.has(where)) continue;
      found.add(where);
      visit(where, readManifest(where));
    }
  };
  visit('.', readManifest('.'));
  return [...found];
}

function locate(from: string, name: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(REPO_ROOT, candidate, 'package.json'))) return candidate;
    if (dir === '.') return undefined;
  }
}

function readManifest(at: string): Manifest {
  return JSON.parse(readFileSync(join(REPO_ROOT, at, 'package.json'), 'utf8')) as Manifest;
}

/** Files readable (and folders enterable) by everyone; execute bits stay as they were for files. */
function openToAll(path: string): void {
  const stat = statSync(path);
  if (stat.isDirectory()) {
    chmodSync(path, stat.mode | 0o555);
    for (const entry of readdirSync(path)) openToAll(join(path, entry));
  } else {
    chmodSync(path, stat.mode | 0o444);
  }
}
