import assert from 'node:assert/strict';
import { keyPath, validateAgainst } from '../../../core/schema.js';
import { CONFIG_SCHEMA } from '../../../core/config.js';

describe('config validation', () => {
  it('turns JSON pointers into the key paths users type', () => {
    assert.equal(keyPath('', '/plugins/2/options/port'), 'plugins[2].options.port');
    assert.equal(keyPath('plugins[1].options', '/listen/port'), 'plugins[1].options.listen.port');
    assert.equal(keyPath('', ''), '(root)');
  });

  it('reports every problem at once and fills in defaults', () => {
    const bad = { name: 'a/b', log: { level: 'loud' }, plugins: ['transport', { use: 'x', extra: 1 }], colour: 'blue' };
    const problems = validateAgainst(CONFIG_SCHEMA, bad, '');
    assert.ok(problems.includes('colour: unknown key'), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('name: must match pattern')), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('log.level: must be one of')), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('plugins[1]')), problems.join('\n'));
    const good: Record<string, unknown> = { name: 'lobby' };
    assert.deepEqual(validateAgainst(CONFIG_SCHEMA, good, ''), []);
    assert.deepEqual(good.log, { level: 'info' });
    assert.equal(good.maxReceiveBytes, 8 * 1024 ** 3);
  });
});
