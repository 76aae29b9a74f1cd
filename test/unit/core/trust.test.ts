import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrustStore } from '../../../core/trust.js';

const id = (c: string) => c.repeat(64);

describe('trust: who may push media here and who may steer the screen', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'nvid-trust-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lets any admitted peer send until someone is trusted, and then only the trusted', () => {
    const store = new TrustStore(join(dir, 'trust.json'), { acceptFrom: undefined, controllers: [] });
    assert.equal(store.acceptsSender(id('a')), true);
    assert.equal(store.add('sender', { id: id('b'), name: 'laptop' }), true);
    assert.equal(store.acceptsSender(id('a')), false);
    assert.equal(store.acceptsSender(id('b')), true);
    assert.equal(store.add('sender', { id: id('b'), name: 'laptop' }), false, 'already trusted');
    assert.equal(store.isController(id('b')), false, 'a sender is not a controller');
  });

  it('merges the config lists with what a person added, keeps the decision across restarts, owner-only', () => {
    const file = join(dir, 'trust.json');
    const config = { acceptFrom: [id('c')], controllers: [id('d')] };
    new TrustStore(file, config).add('controller', { id: id('e'), name: 'office' });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const again = new TrustStore(file, config);
    assert.deepEqual(again.list().controllers.map((e) => [e.id[0], e.source]), [['d', 'config'], ['e', 'trust']]);
    assert.equal(again.isController(id('e')), true);
    assert.equal(again.acceptsSender(id('c')), true);
    assert.equal(again.acceptsSender(id('e')), false);
    assert.equal(again.list().acceptsAnySender, false);
  });

  it('takes a person\'s trust back, but leaves the config\'s to the config', () => {
    const store = new TrustStore(join(dir, 'trust.json'), { acceptFrom: [id('c')], controllers: [] });
    store.add('sender', { id: id('f') });
    assert.equal(store.remove('sender', id('f')), true);
    assert.equal(store.acceptsSender(id('f')), false);
    assert.equal(store.remove('sender', id('f')), false);
    assert.throws(() => store.remove('sender', id('c')), { code: 'NVID_ERR_USAGE', message: /trusted as sender by the config file \(acceptFrom\)/ });
  });

  it('refuses to start on a trust file it cannot read, rather than trusting nobody or everybody', () => {
    const file = join(dir, 'trust.json');
    writeFileSync(file, '{ not json');
    assert.throws(() => new TrustStore(file, { acceptFrom: undefined, controllers: [] }), { code: 'NVID_ERR_STATE_DIR' });
  });
});
