import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, errorFromJSON, NvidError } from '../../../core/errors.js';
import { REPO_ROOT } from '../../helpers/nvid.js';

describe('error codes', () => {
  it('documents every code in docs/errors.md', () => {
    const doc = readFileSync(`${REPO_ROOT}/docs/errors.md`, 'utf8');
    const missing = Object.keys(ERROR_CODES).filter((code) => !doc.includes(`\`${code}\``));
    assert.deepEqual(missing, []);
  });

  it('round-trips through JSON and refuses codes it does not know', () => {
    const err = new NvidError('NVID_ERR_REPLAY', 'seen before', { details: { transferId: 'x' } });
    const back = errorFromJSON(JSON.parse(JSON.stringify(err)));
    assert.equal(back.code, 'NVID_ERR_REPLAY');
    assert.equal(back.message, 'seen before');
    assert.deepEqual(back.details, { transferId: 'x' });
    assert.equal(errorFromJSON({ code: 'EVIL', message: 'x' }).code, 'NVID_ERR_CONTROL_PROTOCOL');
  });
});
