/**
 * Finds the ffmpeg family of programs. In the core because plugins share it:
 * the media plugin runs ffprobe,
 * the display plugin ffplay and ffmpeg (screenshots).
 *
 * Order: the path given in the plugin's options, then `PATH` (Debian's
 * `ffmpeg` package ships all three), then the optional npm packages
 * `ffmpeg-static` / `ffprobe-static` when someone installed them. They are not
 * dependencies of nvid: they ship no ffplay, and Debian's build is the one the
 * tests run against.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { NvidError } from '../errors.js';

/** The programs nvid runs. */
export type BinaryName = 'ffmpeg' | 'ffprobe' | 'ffplay';

/** Where a binary was found, for logs and `nvid status`. */
export interface ResolvedBinary {
  readonly name: BinaryName;
  readonly path: string;
  readonly source: 'options' | 'PATH' | 'npm';
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable called `name` in the directories of `pathVariable`. */
export function findOnPath(name: string, pathVariable = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVariable.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** The npm package that may provide each binary, and how its export names the path. */
const NPM_PACKAGES: Readonly<Record<BinaryName, string | undefined>> = {
  ffmpeg: 'ffmpeg-static',
  ffprobe: 'ffprobe-static',
  ffplay: undefined,
};

async function findInNpmPackage(name: BinaryName): Promise<string | undefined> {
  const specifier = NPM_PACKAGES[name];
  if (!specifier) return undefined;
  try {
    // A variable specifier keeps TypeScript from requiring the (absent) package's types.
    const mod = (await import(specifier)) as { default?: unknown; path?: unknown };
    const value = mod.default ?? mod;
    // ffmpeg-static exports the path itself; ffprobe-static exports { path }.
    const path = typeof value === 'string' ? value : typeof (value as { path?: unknown }).path === 'string' ? (value as { path: string }).path : undefined;
    return path && isExecutableFile(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/** What a user should do when `name` is missing. */
export function installHint(name: BinaryName, optionKey: string): string {
  return `${name} was not found: install it with "apt-get install ffmpeg" (Debian/Ubuntu; it provides ffmpeg, ffprobe and ffplay), or set ${optionKey} to its path`;
}

/**
 * Resolves one binary. A configured path that is not an executable file is an
 * error of its own: silently falling back to another ffmpeg would hide a typo.
 *
 * @param configured the path from the plugin's options, if any
 * @param optionKey how the option is named in messages, e.g. `media.options.ffprobe`
 * @param baseDir what a relative configured path is relative to (the config file's folder)
 * @throws NvidError NVID_ERR_BINARY_MISSING
 */
export async function resolveBinary(name: BinaryName, configured: string | undefined, optionKey: string, baseDir = process.cwd()): Promise<ResolvedBinary> {
  if (configured) {
    // A bare name ("ffprobe5") is looked up on PATH; anything with a slash is a path.
    const path = configured.includes('/') ? (isAbsolute(configured) ? configured : resolve(baseDir, configured)) : findOnPath(configured);
    if (path && isExecutableFile(path)) return { name, path, source: 'options' };
    throw new NvidError('NVID_ERR_BINARY_MISSING', `${optionKey} is "${configured}", which is not an executable file; ${installHint(name, optionKey)}`, {
      details: { binary: name, configured },
    });
  }
  const onPath = findOnPath(name);
  if (onPath) return { name, path: onPath, source: 'PATH' };
  const fromNpm = await findInNpmPackage(name);
  if (fromNpm) return { name, path: fromNpm, source: 'npm' };
  throw new NvidError('NVID_ERR_BINARY_MISSING', installHint(name, optionKey), { details: { binary: name } });
}
