import assert from 'node:assert/strict';
import { isNvidError } from '../../../core/errors.js';
import { loadPlugin } from '../../../core/plugin-loader.js';
import { validateAgainst } from '../../../core/schema.js';
import DropFolderPlugin from '../../../plugins/drop-folder/index.js';

describe('drop-folder: options through the core plugin loader', () => {
  it('loads as a bundled plugin and fills in every default (ajv strict accepts the schema)', async () => {
    const options = { folder: '/srv/drop' };
    const loaded = await loadPlugin({ use: 'drop-folder', options }, 3, process.cwd());
    assert.equal(loaded.name, 'drop-folder');
    assert.equal(loaded.source, 'bundled');
    assert.ok(loaded.instance instanceof DropFolderPlugin);

    const filled: Record<string, unknown> = { folder: 'drop' };
    assert.deepEqual(validateAgainst(DropFolderPlugin.schema, filled, 'options'), []);
    assert.deepEqual(filled, {
      folder: 'drop',
      to: [],
      afterSend: 'move',
      concurrency: 2,
      stableMs: 2000,
      pollMs: 250,
      rescanMs: 5000,
      retry: { initialMs: 5000, maxMs: 300_000, factor: 2 },
      ignore: [],
      usePolling: false,
    });
  });

  it('refuses unknown keys, bad values and a missing folder, naming each key', async () => {
    const refused = async (options: Record<string, unknown>) => {
      const err = await loadPlugin({ use: 'drop-folder', options }, 3, process.cwd()).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(isNvidError(err, 'NVID_ERR_PLUGIN_OPTIONS'), `refused: ${JSON.stringify(options)}`);
      return (err as Error).message;
    };
    assert.match(await refused({}), /plugins\[3\]\.options\.folder: is required/);
    assert.match(await refused({ folder: 'x', afterSend: 'archive' }), /plugins\[3\]\.options\.afterSend: must be one of "move", "delete"/);
    assert.match(await refused({ folder: 'x', concurrency: 0 }), /plugins\[3\]\.options\.concurrency/);
    assert.match(await refused({ folder: 'x', retry: { initialMs: 10, delay: 3 } }), /plugins\[3\]\.options\.retry\.delay: unknown key/);
    assert.match(await refused({ folder: 'x', to: 'lobby' }), /plugins\[3\]\.options\.to: must be array/);
  });
});
