/**
 * The structure guard: no import cycles (type-only imports included), no plugin
 * importing another plugin's files, no core module importing a plugin, no
 * script importing a test helper. The rules live in .dependency-cruiser.cjs;
 * `npm run structure` runs the same rules by hand.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkStructure, summaryLine, violationLines } from '../helpers/structure.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('structure', function () {
  // Parsing ~200 TypeScript files takes a few seconds; a busy 2-core machine, more.
  this.timeout(120_000);

  it('has no import cycle, cross-plugin, core->plugin or scripts->test import', async () => {
    const report = await checkStructure(ROOT);
    // Printed on every run, pass or fail: the "Done when" reads these counts in the test output.
    console.log(`      ${summaryLine(report)}`);
    assert.ok(report.modules > 50, `only ${report.modules} modules cruised: the source folders were not found`);
    assert.deepEqual(violationLines(report), [], 'see .dependency-cruiser.cjs for why each rule exists');
  });

  describe('finds what it forbids in a small tree (so it cannot pass by seeing nothing)', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'nvid-structure-'));
      writeTree(dir, {
        'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true } }),
        // Allowed: a plugin's own files, a test reading a plugin and a script.
        'plugins/a/index.ts': "import { own } from './own.js';\nimport { x } from '../b/x.js';\nexport const a = own + x;\n",
        'plugins/a/own.ts': 'export const own = 1;\n',
        'plugins/b/x.ts': 'export const x = 2;\n',
        'test/helper.ts': "import { a } from '../plugins/a/index.js';\nexport const h = a;\n",
        'scripts/run.ts': "import { h } from '../test/helper.js';\nexport const r = h;\n",
        // A cycle made of type-only imports alone: invisible after compilation, still a cycle.
        'core/one.ts': "import type { Two } from './two.js';\nexport interface One { two?: Two }\n",
        'core/two.ts': "import type { One } from './one.js';\nexport interface Two { one?: One }\n",
        'core/loader.ts': "import { own } from '../plugins/a/own.js';\nexport const l = own;\n",
      });
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('reports each violation, and only those', async () => {
      const report = await checkStructure(dir);
      assert.equal(report.modules, 8);
      assert.deepEqual(report.cycles, [['core/one.ts', 'core/two.ts']]);
      assert.deepEqual(report.imports, {
        'no-cross-plugin': ['plugins/a/index.ts -> plugins/b/x.ts'],
        'no-core-to-plugin': ['core/loader.ts -> plugins/a/own.ts'],
        'no-scripts-to-test': ['scripts/run.ts -> test/helper.ts'],
      });
      assert.deepEqual(report.other, []);
      assert.equal(summaryLine(report), 'structure: 8 modules, 1 cycles, 1 cross-plugin imports, 1 core->plugin imports, 1 scripts->test imports');
    });
  });
});

function writeTree(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}
