import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ERROR_CODE_PATTERN, ERROR_CODES, errorFromJSON, NvidError } from '../../../core/errors.js';
import type { PluginDeclaration } from '../../../core/plugin-api.js';
import { REPO_ROOT } from '../../helpers/nvid.js';

/** Every bundled plugin's declaration, as the loader sees it. */
async function bundledPlugins(): Promise<Map<string, PluginDeclaration>> {
  const found = new Map<string, PluginDeclaration>();
  for (const name of readdirSync(join(REPO_ROOT, 'plugins'))) {
    const mod = (await import(join(REPO_ROOT, 'dist', 'plugins', name, 'index.js'))) as { default: PluginDeclaration };
    found.set(name, mod.default);
  }
  return found;
}

/** The TypeScript sources under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The NVID_ERR_ words a source file names, outside comments. */
function codesIn(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  return new Set(text.match(/NVID_ERR_[A-Z0-9_]+/g) ?? []);
}

describe('error codes', () => {
  it('each bundled plugin declares only well-formed codes, none of them the core\'s', async () => {
    for (const [name, plugin] of await bundledPlugins()) {
      for (const code of Object.keys(plugin.errorCodes ?? {})) {
        assert.match(code, ERROR_CODE_PATTERN, `${name} declares ${code}`);
        assert.equal(code in ERROR_CODES, false, `${name} declares ${code}, which the core owns`);
      }
    }
  });

  it('every code raised in core/ is the core\'s, and in a plugin the core\'s or that plugin\'s own', async () => {
    const plugins = await bundledPlugins();
    const undeclared: string[] = [];
    for (const file of sources(join(REPO_ROOT, 'core'))) {
      for (const code of codesIn(file)) if (!(code in ERROR_CODES)) undeclared.push(`core: ${code} in ${relative(REPO_ROOT, file)}`);
    }
    for (const [name, plugin] of plugins) {
      const own = plugin.errorCodes ?? {};
      for (const file of sources(join(REPO_ROOT, 'plugins', name))) {
        for (const code of codesIn(file)) if (!(code in ERROR_CODES) && !(code in own)) undeclared.push(`${name}: ${code} in ${relative(REPO_ROOT, file)}`);
      }
    }
    // The CLI maps a few plugin codes to exit codes of their own; those are named in docs/errors.md too.
    assert.deepEqual(undeclared.filter((line) => !line.includes('core/cli/exit-codes.ts')), []);
  });

  it('documents every code of the core and of every bundled plugin in docs/errors.md', async () => {
    const doc = readFileSync(`${REPO_ROOT}/docs/errors.md`, 'utf8');
    const all = [...Object.keys(ERROR_CODES), ...[...(await bundledPlugins()).values()].flatMap((p) => Object.keys(p.errorCodes ?? {}))];
    const missing = all.filter((code) => !doc.includes(`\`${code}\``));
    assert.deepEqual(missing, []);
    const documented = new Set(doc.match(/`NVID_ERR_[A-Z0-9_]+`/g)?.map((c) => c.slice(1, -1)));
    assert.deepEqual([...documented].filter((code) => !all.includes(code)), [], 'docs/errors.md lists no code that nothing declares');
  });

  it('round-trips through JSON, keeps plugin codes, and refuses codes of the wrong shape', () => {
    const err = new NvidError('NVID_ERR_REPLAY', 'seen before', { details: { transferId: 'x' } });
    const back = errorFromJSON(JSON.parse(JSON.stringify(err)));
    assert.equal(back.code, 'NVID_ERR_REPLAY');
    assert.equal(back.message, 'seen before');
    assert.deepEqual(back.details, { transferId: 'x' });
    assert.equal(errorFromJSON({ code: 'NVID_ERR_SOME_PLUGIN_WORD', message: 'x' }).code, 'NVID_ERR_SOME_PLUGIN_WORD');
    assert.equal(errorFromJSON({ code: 'EVIL', message: 'x' }).code, 'NVID_ERR_CONTROL_PROTOCOL');
    assert.equal(errorFromJSON({ code: 'NVID_ERR_lower\nnewline', message: 'x' }).code, 'NVID_ERR_CONTROL_PROTOCOL');
  });
});
