import assert from 'node:assert/strict';
import { isNvidError } from '../../../core/errors.js';
import { DATA_FRAME_BYTES, FrameDecoder, LIST_MESSAGE, PREFIX_BYTES, dataPrefix, encodeEnd, encodeListFrame, encodeMessage, type Frame, type RawMessage } from '../../../plugins/transport/wire/frame-codec.js';
import { checkMessage, COORDINATOR_TO_NODE, NODE_TO_COORDINATOR } from '../../../plugins/transport/wire/wire-messages.js';
import { encodePeerEntry, fromWirePeer, peerEntryEnd, toWirePeer } from '../../../plugins/transport/wire/wire-peer.js';

function prefix(length: number, version: number, kind: number): Buffer {
  const head = Buffer.alloc(PREFIX_BYTES);
  head.writeUInt32BE(length, 0);
  head.writeUInt8(version, 4);
  head.writeUInt8(kind, 5);
  return head;
}

function messageOf(frame: Frame): RawMessage {
  assert.equal(frame.kind, 'message');
  return (frame as { message: RawMessage }).message;
}

function decodeError(bytes: Buffer): unknown {
  try {
    new FrameDecoder().push(bytes);
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('transport frame codec', () => {
  it('round-trips message, data and end frames fed one byte at a time', () => {
    const body = Buffer.from('opaque body bytes \u0000\u00ff');
    const wire = Buffer.concat([encodeMessage({ type: 'transfer', transferId: 't-1' } as { type: string }), dataPrefix(body.length), body, encodeEnd()]);
    const decoder = new FrameDecoder();
    const frames: Frame[] = [];
    for (let i = 0; i < wire.length; i += 1) frames.push(...decoder.push(wire.subarray(i, i + 1)));
    assert.equal(frames.length, 3);
    assert.deepEqual(frames[0], { kind: 'message', message: { type: 'transfer', transferId: 't-1' } });
    assert.equal(frames[1]!.kind, 'data');
    assert.deepEqual((frames[1] as { data: Buffer }).data, body);
    assert.deepEqual(frames[2], { kind: 'end' });
    assert.equal(decoder.pendingBytes, 0);
  });

  it('decodes many frames from one chunk', () => {
    const wire = Buffer.concat(Array.from({ length: 50 }, () => encodeMessage({ type: 'ping' })));
    assert.equal(new FrameDecoder().push(wire).length, 50);
  });

  it('refuses a 4 GiB length prefix after reading only the 6-byte prefix', () => {
    const err = decodeError(prefix(0xffffffff, 1, 2));
    assert.ok(isNvidError(err, 'NVID_ERR_FRAME_TOO_LARGE'));
  });

  it('refuses a data frame one byte over the limit, accepts one at the limit', () => {
    assert.ok(isNvidError(decodeError(prefix(DATA_FRAME_BYTES + 1, 1, 2)), 'NVID_ERR_FRAME_TOO_LARGE'));
    const atLimit = new FrameDecoder().push(Buffer.concat([prefix(DATA_FRAME_BYTES, 1, 2), Buffer.alloc(DATA_FRAME_BYTES)]));
    assert.equal(atLimit.length, 1);
  });

  it('applies the smaller limit to message frames', () => {
    const decoder = new FrameDecoder({ maxMessageBytes: 100, maxDataBytes: 1000 });
    assert.throws(() => decoder.push(prefix(101, 1, 1)), (err) => isNvidError(err, 'NVID_ERR_FRAME_TOO_LARGE'));
  });

  it('refuses an unknown protocol version with BAD_FRAME naming the version', () => {
    const err = decodeError(Buffer.concat([prefix(2, 9, 1), Buffer.from('{}')]));
    assert.ok(isNvidError(err, 'NVID_ERR_BAD_FRAME'));
    assert.equal(err.details?.version, 9);
  });

  it('refuses an unknown frame kind', () => {
    assert.ok(isNvidError(decodeError(prefix(0, 1, 77)), 'NVID_ERR_BAD_FRAME'));
  });

  it('refuses an end frame with a payload', () => {
    assert.ok(isNvidError(decodeError(prefix(1, 1, 3)), 'NVID_ERR_FRAME_TOO_LARGE'));
  });

  it('refuses message payloads that are not a JSON object with a string type', () => {
    for (const text of ['not json', '[1,2]', '"x"', '{"type":5}', 'null']) {
      const payload = Buffer.from(text);
      assert.ok(isNvidError(decodeError(Buffer.concat([prefix(payload.length, 1, 1), payload])), 'NVID_ERR_BAD_FRAME'), text);
    }
    const invalidUtf8 = Buffer.from([0x7b, 0xff, 0x7d]);
    assert.ok(isNvidError(decodeError(Buffer.concat([prefix(3, 1, 1), invalidUtf8])), 'NVID_ERR_BAD_FRAME'));
  });

  it('keeps a truncated frame pending instead of returning it', () => {
    const wire = encodeMessage({ type: 'ping' });
    const decoder = new FrameDecoder();
    assert.deepEqual(decoder.push(wire.subarray(0, wire.length - 1)), []);
    assert.equal(decoder.pendingBytes, wire.length - 1);
  });

  it('will not encode a message its peer would refuse', () => {
    assert.throws(() => encodeMessage({ type: 'x', pad: 'y'.repeat(200) } as never, 100), (err) => isNvidError(err, 'NVID_ERR_FRAME_TOO_LARGE'));
  });
});

describe('transport wire messages', () => {
  it('accepts a well-formed message of an allowed type', () => {
    const msg = checkMessage({ type: 'rename', requestId: 3, name: 'lobby' }, NODE_TO_COORDINATOR);
    assert.equal(msg.type, 'rename');
  });

  it('refuses a type not allowed on this link', () => {
    assert.throws(() => checkMessage({ type: 'welcome' }, NODE_TO_COORDINATOR), (err) => isNvidError(err, 'NVID_ERR_BAD_FRAME'));
    assert.throws(() => checkMessage({ type: 'no-such-type' }, COORDINATOR_TO_NODE), (err) => isNvidError(err, 'NVID_ERR_BAD_FRAME'));
  });

  it('refuses extra or missing fields and wrong types', () => {
    assert.throws(() => checkMessage({ type: 'ping', extra: 1 }, NODE_TO_COORDINATOR), (err) => isNvidError(err, 'NVID_ERR_BAD_FRAME'));
    assert.throws(() => checkMessage({ type: 'hello', name: 'x' }, NODE_TO_COORDINATOR), (err) => isNvidError(err, 'NVID_ERR_BAD_FRAME'));
    assert.throws(() => checkMessage({ type: 'hello', name: 'x', port: 70000 }, NODE_TO_COORDINATOR), (err) => isNvidError(err, 'NVID_ERR_BAD_FRAME'));
    assert.throws(() => checkMessage(JSON.parse('{"type":"ping","__proto__":{"x":1}}'), NODE_TO_COORDINATOR), (err) => isNvidError(err, 'NVID_ERR_BAD_FRAME'));
  });

  it('reads listed peers as positional entries, the ID in base64url, tags only when there are any', () => {
    const id = 'ab'.repeat(32);
    const peer = { id, name: 'lobby', address: '10.0.0.7', port: 4001, tags: [] };
    const entry = toWirePeer(peer);
    assert.equal(JSON.stringify(entry), `["${Buffer.from(id, 'hex').toString('base64url')}","lobby","10.0.0.7",4001]`);
    assert.deepEqual(fromWirePeer(entry), peer);
    const tagged = toWirePeer({ ...peer, tags: ['floor-2'] });
    assert.deepEqual(fromWirePeer(tagged).tags, ['floor-2']);
    const joined = checkMessage(JSON.parse(JSON.stringify({ type: 'peers-joined', peers: [entry, tagged] })), COORDINATOR_TO_NODE);
    assert.deepEqual(joined.type === 'peers-joined' && joined.peers.map((p) => fromWirePeer(p).id), [id, id]);
    const bad = [
      [id, 'lobby', '10.0.0.7', 4001], // a hex ID
      [entry[0], 'lobby', '10.0.0.7'], // no port
      [...entry, ['floor-2'], 'more'], // a sixth item
      [...entry, 'floor-2'], // tags not a list
      { id: entry[0], name: 'lobby', address: '10.0.0.7', port: 4001 }, // the old keyed form
    ];
    for (const peer of bad) {
      assert.throws(() => checkMessage({ type: 'peer-joined', peer }, COORDINATOR_TO_NODE), (err) => isNvidError(err, 'NVID_ERR_BAD_FRAME'), JSON.stringify(peer));
    }
    assert.throws(() => checkMessage({ type: 'peers-joined', peers: [] }, COORDINATOR_TO_NODE), (err) => isNvidError(err, 'NVID_ERR_BAD_FRAME'), 'an empty batch');
  });

  it('carries list pages and joins in binary, decoded to the messages their JSON would be and checked by the same schema', () => {
    const peers = [
      { id: 'ab'.repeat(32), name: 'lobby', address: '10.0.0.7', port: 4001, tags: [] },
      { id: 'cd'.repeat(32), name: 'Café – écran 2 🖥', address: 'fe80::1%eth0', port: 65535, tags: ['floor-2', 'menu'] },
      { id: '01'.repeat(32), name: 'x', address: 'screen.example', port: 1, tags: [] },
      { id: 'ef'.repeat(32), name: 'padded', address: '10.0.0.07', port: 80, tags: [] }, // not canonical dotted IPv4: kept as text, exactly
    ];
    const entries = peers.map((peer) => encodePeerEntry(peer));
    assert.equal(entries[0]!.length, 32 + 1 + 5 + 1 + 4 + 2 + 1, 'a typical entry: ID, name, IPv4 in four bytes, port, no tags');
    for (const entry of entries) assert.equal(peerEntryEnd(entry, 0), entry.length);
    const frames = new FrameDecoder().push(Buffer.concat([encodeListFrame(LIST_MESSAGE.page, entries.slice(0, 2)), encodeListFrame(LIST_MESSAGE.lastPage, entries.slice(2)), encodeListFrame(LIST_MESSAGE.joined, entries)]));
    const read = frames.map((frame) => checkMessage(messageOf(frame), COORDINATOR_TO_NODE));
    assert.deepEqual(read.map((m) => (m.type === 'peers' ? `peers more=${m.more}` : m.type)), ['peers more=true', 'peers more=false', 'peers-joined']);
    const listed = read.flatMap((m) => (m.type === 'peers' ? m.peers : [])).map(fromWirePeer);
    assert.deepEqual(listed, peers, 'every field back as it was: unicode names, IPv6 with a zone, host names, tags');
    assert.deepEqual(read[2]!.type === 'peers-joined' && read[2]!.peers.map(fromWirePeer), peers);
    assert.throws(() => encodeListFrame(LIST_MESSAGE.joined, entries, 100), (err) => isNvidError(err, 'NVID_ERR_FRAME_TOO_LARGE'), 'over the limit');

    const list = (payload: Buffer) => Buffer.concat([prefix(payload.length, 1, 4), payload]);
    const refused = (payload: Buffer) => {
      const err = decodeError(list(payload));
      assert.ok(isNvidError(err, 'NVID_ERR_BAD_FRAME'), `${payload.toString('hex')}: ${String(err)}`);
      return (err as Error).message;
    };
    const whole = Buffer.concat([Buffer.from([LIST_MESSAGE.lastPage]), entries[1]!]);
    for (let cut = 2; cut < whole.length; cut += 1) assert.match(refused(whole.subarray(0, cut)), /ends inside an entry/, `cut at ${cut}`);
    assert.match(refused(Buffer.alloc(0)), /empty list frame/);
    assert.match(refused(Buffer.from([9])), /unknown message 9/);
    const badForm = Buffer.from(whole);
    badForm[1 + 32 + 1 + badForm[33]!] = 6;
    assert.match(refused(badForm), /unknown address form 6/);
    const badName = Buffer.from(whole);
    badName[1 + 32 + 1] = 0xff;
    assert.match(refused(badName), /name is not valid UTF-8/);
    const noPort = Buffer.concat([Buffer.from([LIST_MESSAGE.joined]), encodePeerEntry({ ...peers[0]!, port: 0 })]);
    const zeroPort = new FrameDecoder().push(list(noPort))[0]!;
    assert.throws(() => checkMessage(messageOf(zeroPort), COORDINATOR_TO_NODE), (err) => isNvidError(err, 'NVID_ERR_BAD_FRAME'), 'the schema still checks a decoded entry (port 0)');
    const noEntries = new FrameDecoder().push(list(Buffer.from([LIST_MESSAGE.joined])))[0]!;
    assert.throws(() => checkMessage(messageOf(noEntries), COORDINATOR_TO_NODE), (err) => isNvidError(err, 'NVID_ERR_BAD_FRAME'), 'joins without an entry');
    assert.ok(isNvidError(decodeError(Buffer.concat([prefix(70_000, 1, 4), Buffer.alloc(8)])), 'NVID_ERR_FRAME_TOO_LARGE'), 'the message limit holds for list frames, before buffering');
  });

  it('maps an error frame with an unknown code to NVID_ERR_CONNECTION, keeping its text', () => {
    const msg = checkMessage({ type: 'error', code: 'EVIL_CODE', message: 'hi' }, COORDINATOR_TO_NODE);
    assert.equal(msg.type === 'error' && msg.code, 'NVID_ERR_CONNECTION');
    assert.equal(msg.type === 'error' && msg.message, 'hi');
  });
});
