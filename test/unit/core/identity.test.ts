import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { createIdentity } from '../../../core/identity.js';

describe('identity: every certificate a node makes is one OpenSSL accepts', () => {
  // A serial whose random first byte is 0x00 or 0x80 is where DER integers go wrong: one node in
  // 256 once failed to start with "illegal padding" because its serial kept a needless zero byte.
  for (const first of [0x00, 0x7f, 0x80, 0xff]) {
    it(`makes a valid certificate when the serial's random bytes start with 0x${first.toString(16).padStart(2, '0')}`, () => {
      const serialBytes = Buffer.concat([Buffer.from([first]), Buffer.alloc(15, 0x01)]);
      const identity = createIdentity('edge', 2048, serialBytes);
      const cert = new X509Certificate(identity.certPem);
      assert.match(cert.serialNumber, /^[4-7][0-9A-F]{31}$/, 'sixteen bytes, positive, no padding');
      assert.doesNotThrow(() => createSecureContext({ key: identity.keyPem, cert: identity.certPem }));
    });
  }
});
