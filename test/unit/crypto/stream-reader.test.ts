import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { NvidError, isNvidError } from '../../../core/errors.js';
import { readExactly } from '../../../plugins/crypto/stream-reader.js';

describe('crypto: reading the start of an envelope stream', () => {
  it('takes exactly the bytes asked for and leaves the rest for the next reader', async () => {
    const stream = Readable.from([Buffer.from('abc'), Buffer.from('defgh')], { objectMode: false });
    assert.equal((await readExactly(stream, 4, 'preamble')).toString(), 'abcd');
    assert.equal((await readExactly(stream, 4, 'header')).toString(), 'efgh');
  });

  it('names the part that was cut short when the stream ends early', async () => {
    const stream = Readable.from([Buffer.from('abc')], { objectMode: false });
    const err = await readExactly(stream, 10, 'wrapped key').then(() => undefined, (e: unknown) => e);
    assert.ok(isNvidError(err, 'NVID_ERR_TRUNCATED'));
    assert.match(err.message, /envelope ended after 3 of 10 bytes of its wrapped key/);
  });

  it("gives the stream's own error when it failed before the reader came along", async () => {
    // The transport's body can break (the sender aborted) while the receive pipeline is still busy elsewhere.
    const stream = new Readable({ read() {} });
    stream.on('error', () => undefined);
    stream.destroy(new NvidError('NVID_ERR_CONNECTION', 'sender aborted the transfer: disk error'));
    await new Promise((resolve) => setImmediate(resolve));
    const err = await readExactly(stream, 8, 'preamble').then(() => undefined, (e: unknown) => e);
    assert.ok(isNvidError(err, 'NVID_ERR_TRUNCATED'));
    assert.match(err.message, /envelope ended after 0 of 8 bytes of its preamble: sender aborted the transfer: disk error/);
  });
});
