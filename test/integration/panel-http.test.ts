/**
 * The panel's HTTP API between real processes: a coordinator, a node with the
 * panel (alpha, maxReceiveBytes 1 MiB) and a headless receiver (beta), all real
 * `nvid` processes on 127.0.0.1, spoken to with raw HTTP and a raw WebSocket
 * so every header is the test's own.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { Cluster, HEADLESS_NODE_PLUGINS } from '../helpers/cluster.js';
import { noiseVideo, testPatternPng } from '../helpers/media-fixtures.js';
import { removeDir, runNvid, tempDir, waitFor, writeJson, type NvidProcess } from '../helpers/nvid.js';
import { call, multipartBody, TextSocket, type Answer, type CallOptions } from '../helpers/panel-http.js';

const MIB = 1024 * 1024;

/** Chunks a few milliseconds apart, as a network delivers them: what the client wrote is then about what the server read. */
async function* paced(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const chunk of chunks) {
    yield chunk;
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Link {
  url: string;
  loginUrl: string;
  expiresAt: string;
}

describe('panel: the HTTP API between real nodes', function () {
  this.timeout(120_000);
  let dir: string;
  let cluster: Cluster;
  let alpha: NvidProcess;
  let base: string;
  let host: string;
  let cookie: string;
  let csrf: string;
  let uploadsDir: string;

  /** A request as the logged-in page makes it (same Host, cookie, CSRF token). */
  const api = (method: string, path: string, options: CallOptions = {}): Promise<Answer> =>
    call(base, method, path, { ...options, headers: { cookie, 'x-csrf-token': csrf, ...options.headers } });
  const upload = (fileName: string, content: Buffer) => {
    const { body, contentType } = multipartBody('file', fileName, content);
    return api('POST', '/api/uploads', { body, headers: { 'content-type': contentType } });
  };
  /** Upload folders and files on disk; not the spare a sent upload's file becomes, for the next upload to write over. */
  const uploadsLeft = () => (existsSync(uploadsDir) ? readdirSync(uploadsDir, { recursive: true }).filter((name) => name !== 'spare') : []);

  before(async () => {
    dir = tempDir('nvid-panel-it-');
    cluster = new Cluster(dir);
    await cluster.startCoordinator();
    alpha = await cluster.startNode({ name: 'alpha', plugins: [...HEADLESS_NODE_PLUGINS, { use: 'panel' }], config: { maxReceiveBytes: MIB } });
    await cluster.startNode({ name: 'beta' });
    await cluster.waitForPeers('alpha', ['beta']);
    uploadsDir = join(alpha.stateDir, 'panel', 'uploads');
  });
  after(async () => {
    await cluster?.stop();
    removeDir(dir);
  });

  it('answers nothing under /api/ without a login, and serves the page without one', async () => {
    const link = await alpha.control<Link>('panel');
    base = link.url;
    host = new URL(base).host;
    assert.match(link.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(link.loginUrl, new RegExp(`^${link.url}/login\\?token=[A-Za-z0-9_-]{43}$`));
    assert.ok(Date.parse(link.expiresAt) > Date.now() + 9 * 60_000);
    for (const path of ['/api/session', '/api/peers', '/api/history', '/api/sends', '/api/library']) {
      const answer = await call(base, 'GET', path);
      assert.equal(answer.status, 401, path);
      assert.equal(answer.json().error.code, 'NVID_ERR_PANEL_LOGIN', path);
    }
    const forged = await call(base, 'GET', '/api/session', { headers: { cookie: 'nvid_panel=forged' } });
    assert.equal(forged.status, 401);
    const page = await call(base, 'GET', '/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
  });

  it('logs in with the link once; a second use is 401 and says to run nvid panel again', async () => {
    const { loginUrl } = await alpha.control<Link>('panel');
    const first = await call(base, 'GET', loginUrl);
    assert.equal(first.status, 303);
    assert.equal(first.headers.location, '/');
    const setCookie = String(first.headers['set-cookie']);
    assert.match(setCookie, /^nvid_panel=[A-Za-z0-9_-]{43};/);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.match(setCookie, /Path=\//);
    assert.doesNotMatch(setCookie, /Secure/, 'plain HTTP on loopback');
    cookie = setCookie.split(';')[0]!;
    const again = await call(base, 'GET', loginUrl);
    assert.equal(again.status, 401);
    assert.match(String(again.headers['content-type']), /text\/html/);
    assert.match(again.text, /nvid panel/);
    const session = await call(base, 'GET', '/api/session', { headers: { cookie } });
    assert.equal(session.status, 200);
    const body = session.json<{ csrfToken: string; node: { id: string; name: string }; features: { display: boolean; dropFolder: boolean } }>();
    assert.equal(body.node.name, 'alpha');
    // alpha's display is headless: it keeps files but has no screen to steer.
    assert.deepEqual(body.features, { display: false, dropFolder: false });
    csrf = body.csrfToken;
    assert.match(csrf, /^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a wrong Host (421) and a cross-Origin POST (403), even with a session', async () => {
    const wrongHost = await api('GET', '/api/session', { headers: { host: `evil.example:${new URL(base).port}` } });
    assert.equal(wrongHost.status, 421);
    assert.equal(wrongHost.json().error.code, 'NVID_ERR_PANEL_HOST');
    const rebound = await call(base, 'GET', '/', { headers: { host: 'attacker.example' } });
    assert.equal(rebound.status, 421, 'the page too: a rebound name gets nothing');
    const crossOrigin = await api('POST', '/api/screen/skip', { headers: { origin: 'http://evil.example' } });
    assert.equal(crossOrigin.status, 403);
    assert.equal(crossOrigin.json().error.code, 'NVID_ERR_PANEL_ORIGIN');
    const sameOrigin = await api('GET', '/api/peers', { headers: { origin: `http://${host}` } });
    assert.equal(sameOrigin.status, 200);
  });

  it('refuses a state-changing request without the CSRF token, and checks bodies and queries against their schemas', async () => {
    for (const token of [undefined, 'wrong']) {
      const answer = await call(base, 'POST', '/api/rename', { body: { name: 'x' }, headers: { cookie, ...(token ? { 'x-csrf-token': token } : {}) } });
      assert.equal(answer.status, 403);
      assert.equal(answer.json().error.code, 'NVID_ERR_PANEL_CSRF');
    }
    const badName = await api('POST', '/api/rename', { body: { name: 'a/b' } });
    assert.equal(badName.status, 400);
    assert.equal(badName.json().error.code, 'NVID_ERR_PANEL_BAD_REQUEST');
    assert.match(badName.json().error.message, /name/);
    const extra = await api('POST', '/api/sends', { body: { upload: 'ab', to: ['0123456789abcdef'], evil: 1 } });
    assert.equal(extra.status, 400);
    const badLimit = await api('GET', '/api/history?limit=500');
    assert.equal(badLimit.status, 400);
    assert.match(badLimit.json().error.message, /limit/);
    const unknownSend = await api('DELETE', '/api/sends/abcdef');
    assert.equal(unknownSend.status, 404);
    assert.equal(unknownSend.json().error.code, 'NVID_ERR_PANEL_NOT_FOUND');
  });

  it('refuses an upload over maxReceiveBytes early, and leaves nothing on disk', async () => {
    const big = Buffer.alloc(5 * MIB, 7);
    // Declared up front: refused before a byte is read.
    const declared = await upload('big.mp4', big);
    assert.equal(declared.status, 413);
    assert.equal(declared.json().error.code, 'NVID_ERR_PANEL_TOO_LARGE');
    // Streamed without a length: cut off once past the limit, long before the 5 MiB are through.
    const { body, contentType } = multipartBody('file', 'big.mp4', big);
    const chunks = Array.from({ length: body.length / (64 * 1024) + 1 }, (_, i) => body.subarray(i * 64 * 1024, (i + 1) * 64 * 1024)).filter((c) => c.length);
    const streamed = await api('POST', '/api/uploads', { body: Readable.from(paced(chunks)), headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' } });
    assert.equal(streamed.status, 413);
    assert.equal(streamed.json().error.code, 'NVID_ERR_PANEL_TOO_LARGE');
    assert.ok(streamed.bytesWrittenAtAnswer < 4 * MIB, `answered after ${streamed.bytesWrittenAtAnswer} bytes of ${body.length}`);
    await waitFor(() => uploadsLeft().length === 0, 'the partial upload to be removed', 5000);
    const fits = await upload('fits.png', Buffer.alloc(MIB, 1));
    assert.equal(fits.status, 201, fits.text);
    assert.equal(fits.json<{ size: number }>().size, MIB);
    assert.equal((await api('DELETE', `/api/uploads/${fits.json<{ id: string }>().id}`)).status, 204);
    assert.deepEqual(uploadsLeft(), []);
  });

  it('neutralises path-like upload names: the file lands inside its upload folder under a safe name', async () => {
    for (const [given, stored] of [['../../etc/passwd.jpg', 'passwd.jpg'], ['..\\evil.png', 'evil.png']] as const) {
      const answer = await upload(given, Buffer.from('not really an image'));
      assert.equal(answer.status, 201, answer.text);
      const { id, name } = answer.json<{ id: string; name: string }>();
      assert.equal(name, stored);
      assert.match(id, /^[0-9a-f]{32}$/);
      assert.equal(readFileSync(join(uploadsDir, id, stored), 'utf8'), 'not really an image');
      assert.equal((await api('DELETE', `/api/uploads/${id}`)).status, 204);
    }
    const wrongType = await upload('notes.txt', Buffer.from('x'));
    assert.equal(wrongType.status, 415);
    assert.equal(wrongType.json().error.code, 'NVID_ERR_PANEL_UPLOAD');
    assert.deepEqual(uploadsLeft(), []);
  });

  it('sends an upload to another node: progress and the receipt live, the send in GET /api/sends and /api/history', async () => {
    const events = await TextSocket.open(base, '/api/events', { cookie, host, origin: `http://${host}` });
    try {
      const beta = (await api('GET', '/api/peers')).json<Array<{ id: string; shortId: string; name: string; online: boolean }>>().find((p) => p.name === 'beta')!;
      assert.equal(beta.shortId, beta.id.slice(0, 16));
      const png = await testPatternPng(dir, 'pattern.png');
      const uploaded = await upload('pattern.png', readFileSync(png));
      assert.equal(uploaded.status, 201, uploaded.text);
      const uploadId = uploaded.json<{ id: string }>().id;
      const started = await api('POST', '/api/sends', { body: { upload: uploadId, to: [beta.id] } });
      assert.equal(started.status, 202, started.text);
      const [send] = started.json<{ sends: Array<{ id: string; state: string; to: { id: string; name: string } }> }>().sends;
      assert.deepEqual(send!.to, { id: beta.id, name: 'beta' });
      const done = await waitFor(async () => {
        const list = (await api('GET', '/api/sends')).json<Array<{ id: string; state: string; receipt?: { storedAs: string; sha256: string }; transferId?: string; error?: unknown }>>();
        const mine = list.find((s) => s.id === send!.id);
        return mine && mine.state !== 'waiting' && mine.state !== 'sending' ? mine : undefined;
      }, 'the send to finish');
      assert.equal(done.state, 'sent', JSON.stringify(done.error));
      assert.match(done.receipt!.sha256, /^[0-9a-f]{64}$/);
      assert.ok(done.receipt!.storedAs);
      assert.ok(existsSync(join(cluster.node('beta').stateDir, 'library', done.receipt!.storedAs)), 'the receiver has it');
      await waitFor(() => events.ofType<{ send: { id: string; state: string } }>('send').some((m) => m.send.id === send!.id && m.send.state === 'sent'), 'the live send message');
      await waitFor(() => events.ofType<{ entry: { kind: string; transferId: string } }>('history').some((m) => m.entry.kind === 'sent' && m.entry.transferId === done.transferId), 'the live history entry');
      const history = (await api('GET', '/api/history?kind=sent&peer=beta')).json<{ entries: Array<{ kind: string; transferId: string; to: string }>; next: string | null }>();
      assert.equal(history.entries[0]?.transferId, done.transferId);
      assert.equal(history.entries[0]?.to, beta.id);
      await waitFor(() => uploadsLeft().length === 0, 'the sent upload to be removed', 5000);
      // Paging: one entry at a time, newest first, down to the start.
      const seen: string[] = [];
      let next: string | null = null;
      do {
        const page: { entries: Array<{ time: string }>; next: string | null } = (await api('GET', `/api/history?limit=1${next ? `&before=${next}` : ''}`)).json();
        seen.push(...page.entries.map((e) => e.time));
        next = page.next;
      } while (next);
      const all = (await api('GET', '/api/history?limit=200')).json<{ entries: Array<{ time: string }> }>().entries.map((e) => e.time);
      assert.deepEqual(seen, all);
    } finally {
      events.close();
    }
  });

  it('sends an announced upload while its bytes arrive; one that breaks off, or is not what it was announced as, reaches no one', async () => {
    const beta = cluster.node('beta');
    const betaId = (await api('GET', '/api/peers')).json<Array<{ id: string; name: string }>>().find((p) => p.name === 'beta')!.id;
    const library = () => (existsSync(join(beta.stateDir, 'library')) ? readdirSync(join(beta.stateDir, 'library')) : []);
    const partials = () => readdirSync(join(beta.stateDir, 'incoming')).filter((f) => f.endsWith('.part'));
    const bytes = readFileSync(await noiseVideo(dir, 'noise.mkv', 7));
    assert.ok(bytes.length > 600 * 1024 && bytes.length < MIB, `${bytes.length} bytes`);
    const half = 512 * 1024;
    type SendView = { id: string; state: string; bytes: number; receipt?: { storedAs: string; sha256: string }; error?: { code: string; message: string } };
    const sendOf = async (id: string) => (await api('GET', '/api/sends')).json<SendView[]>().find((s) => s.id === id);
    const finished = (id: string) => waitFor(async () => {
      const send = await sendOf(id);
      return send && send.state !== 'waiting' && send.state !== 'sending' ? send : undefined;
    }, `send ${id} to finish`);
    const announceAndSend = async (name: string, kind: string) => {
      const announced = await api('POST', '/api/uploads/announce', { body: { name, size: bytes.length, kind } });
      assert.equal(announced.status, 201, announced.text);
      const uploadId = announced.json<{ id: string }>().id;
      const started = await api('POST', '/api/sends', { body: { upload: uploadId, to: [betaId] } });
      assert.equal(started.status, 202, started.text);
      return { uploadId, sendId: started.json<{ sends: Array<{ id: string }> }>().sends[0]!.id };
    };
    const put = (uploadId: string, body: PassThrough) => api('PUT', `/api/uploads/${uploadId}`, { body, headers: { 'content-type': 'application/octet-stream', 'content-length': bytes.length } });
    const before = library();

    // The send moves while the upload is only half there, and what arrives is the file, byte for byte.
    const whole = await announceAndSend('noise.mkv', 'video');
    let body = new PassThrough();
    const filling = put(whole.uploadId, body);
    body.write(bytes.subarray(0, half));
    // The receiver already holds (decrypted, verified chunk by chunk) part of a file whose upload is half done.
    await waitFor(() => partials().some((f) => statSync(join(beta.stateDir, 'incoming', f)).size >= 256 * 1024), 'the receiver to hold part of it before the upload is whole');
    body.end(bytes.subarray(half));
    assert.equal((await filling).status, 200);
    const sent = await finished(whole.sendId);
    assert.equal(sent.state, 'sent', JSON.stringify(sent.error));
    assert.equal(sent.receipt!.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.deepEqual(readFileSync(join(beta.stateDir, 'library', sent.receipt!.storedAs)), bytes);
    await waitFor(() => uploadsLeft().length === 0, 'the sent upload to be removed', 5000);
    // Its file stays as the spare the next upload writes over: the ones below start on this one's bytes.
    assert.equal(statSync(join(uploadsDir, 'spare')).size, bytes.length);

    // The browser goes away half-way: the send fails saying so, and the receiver keeps nothing.
    const broken = await announceAndSend('broken.mkv', 'video');
    assert.equal(existsSync(join(uploadsDir, 'spare')), false, 'the spare is the new upload now');
    body = new PassThrough();
    const cut = put(broken.uploadId, body).catch((err: Error) => err);
    body.write(bytes.subarray(0, half));
    await waitFor(() => partials().length > 0, 'the send to reach the receiver');
    body.destroy(new Error('the browser tab was closed'));
    await cut;
    const failed = await finished(broken.sendId);
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error?.code, 'NVID_ERR_PANEL_UPLOAD');
    assert.match(failed.error!.message, /broke off after \d+ of its \d+ bytes/);

    // Announced as an image, but it is a video: the sender's own check stops the final chunk.
    const mislabelled = await announceAndSend('noise.mkv', 'image');
    assert.equal((await put(mislabelled.uploadId, new PassThrough().end(bytes) as PassThrough)).status, 200);
    const refused = await finished(mislabelled.sendId);
    assert.equal(refused.state, 'failed');
    assert.equal(refused.error?.code, 'NVID_ERR_MEDIA_REJECTED');
    assert.match(refused.error!.message, /announced as an image but is a video/);

    await waitFor(() => partials().length === 0, "the receiver to drop the partial files", 10_000);
    assert.deepEqual(library().filter((f) => !before.includes(f)), [sent.receipt!.storedAs], 'only the whole, checked file reached the library');
    await waitFor(() => uploadsLeft().length === 0, 'the failed uploads to be removed', 5000);

    // A body of another length than announced, and an announcement past maxReceiveBytes, are refused.
    const wrongLength = await announceAndSend('short.mkv', 'video');
    const short = await api('PUT', `/api/uploads/${wrongLength.uploadId}`, { body: bytes.subarray(0, 1000), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(short.status, 400, short.text);
    assert.equal(short.json().error.code, 'NVID_ERR_PANEL_BAD_REQUEST');
    const gaveUp = await finished(wrongLength.sendId);
    assert.equal(gaveUp.state, 'failed');
    assert.equal(gaveUp.error?.code, 'NVID_ERR_PANEL_BAD_REQUEST');
    const tooLarge = await api('POST', '/api/uploads/announce', { body: { name: 'big.mkv', size: 5 * MIB, kind: 'video' } });
    assert.equal(tooLarge.status, 413);
    assert.equal(tooLarge.json().error.code, 'NVID_ERR_PANEL_TOO_LARGE');
    await waitFor(() => uploadsLeft().length === 0, 'nothing left of the refused uploads', 5000);
  });

  it('shows the library with thumbnails made by ffmpeg, refuses path-like item names, deletes an item', async () => {
    const events = await TextSocket.open(base, '/api/events', { cookie, host });
    try {
      const png = await testPatternPng(dir, 'for-alpha.png', '640x480');
      const sent = await cluster.node('beta').cli(['send', png, '--to', 'alpha']);
      assert.equal(sent.code, 0, sent.stderr);
      await waitFor(() => events.ofType('library').length > 0, 'a library message');
      const [item] = (await api('GET', '/api/library')).json<Array<{ name: string; size: number; modified: number }>>();
      assert.ok(item && item.size > 0 && item.modified > 0);
      const thumb = await new Promise<{ status: number; type: string; body: Buffer }>((resolve, reject) => {
        const req = httpGet(new URL(`/api/library/${encodeURIComponent(item.name)}/thumb.jpg`, base), { headers: { cookie } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
      });
      assert.equal(thumb.status, 200);
      assert.equal(thumb.type, 'image/jpeg');
      assert.deepEqual([...thumb.body.subarray(0, 2)], [0xff, 0xd8], 'a JPEG');
      assert.equal(readdirSync(join(alpha.stateDir, 'panel', 'thumbs')).length, 1, 'cached');
      for (const name of ['..%2Fidentity%2Fkey.pem', '.hidden.png', 'nope.png']) {
        const answer = await api('GET', `/api/library/${name}/thumb.jpg`);
        assert.equal(answer.status, 404, name);
        assert.equal(answer.json().error.code, 'NVID_ERR_LIBRARY_ITEM', name);
      }
      assert.equal((await api('DELETE', `/api/library/${encodeURIComponent(item.name)}`)).status, 204);
      assert.deepEqual((await api('GET', '/api/library')).json(), []);
      const dropFolder = await api('GET', '/api/drop-folder');
      assert.equal(dropFolder.status, 404);
      assert.equal(dropFolder.json().error.code, 'NVID_ERR_NOT_AVAILABLE');
    } finally {
      events.close();
    }
  });

  it('tells the page over the WebSocket when a peer renames elsewhere; the upgrade needs the cookie', async () => {
    await assert.rejects(TextSocket.open(base, '/api/events', { host }), (err: { status?: number }) => err.status === 401);
    await assert.rejects(TextSocket.open(base, '/api/events', { host, cookie, origin: 'http://evil.example' }), (err: { status?: number }) => err.status === 403);
    const events = await TextSocket.open(base, '/api/events', { cookie, host });
    try {
      await cluster.node('beta').control('rename', { name: 'gamma' });
      const message = await waitFor(() => events.ofType<{ peers: Array<{ name: string }> }>('peers').find((m) => m.peers.some((p) => p.name === 'gamma')), 'a peers message naming gamma');
      assert.equal(message.peers.length, 1);
    } finally {
      events.close();
    }
  });

  it("shows another node's screen only when that node trusts this one as a controller", async () => {
    const [peer] = (await api('GET', '/api/peers')).json<Array<{ id: string; name: string }>>();
    const refused = await api('GET', `/api/peers/${peer!.id}/shot.png`);
    assert.equal(refused.status, 403);
    assert.equal(refused.json().error.code, 'NVID_ERR_NOT_CONTROLLER');
    assert.equal((await api('GET', '/api/peers/not-an-id/shot.png')).status, 400);
    const trusted = await runNvid(['trust', 'add', 'alpha', '--as', 'controller', '--config', cluster.node('beta').configFile]);
    assert.equal(trusted.code, 0, trusted.stderr);
    // Now the peer answers; being headless, it has no screen to show, and says so.
    const headless = await api('GET', `/api/peers/${peer!.id}/shot.png`);
    assert.equal(headless.status, 404);
    assert.equal(headless.json().error.code, 'NVID_ERR_NOT_AVAILABLE');
  });

  it('logs out, and limits failed logins from one address to 10 a minute', async () => {
    assert.equal((await api('POST', '/api/logout')).status, 204);
    assert.equal((await call(base, 'GET', '/api/session', { headers: { cookie } })).status, 401);
    let status = 0;
    for (let i = 0; i < 12 && status !== 429; i++) status = (await call(base, 'GET', '/login?token=guess')).status;
    assert.equal(status, 429);
    const { loginUrl } = await alpha.control<Link>('panel');
    assert.equal((await call(base, 'GET', loginUrl)).status, 429, 'even a good token waits out the minute');
  });

  it('refuses to start on a LAN address without tls or insecurePlainHttpOnLan, naming the options', async () => {
    const lanDir = join(dir, 'lan');
    mkdirSync(lanDir);
    const transport = { use: 'transport', options: { listen: { host: '127.0.0.1', port: 0 }, coordinator: { host: '127.0.0.1', port: cluster.coordinatorPort } } };
    const config = writeJson(join(lanDir, 'config.json'), { name: 'lan', stateDir: join(lanDir, 'state'), plugins: [transport, ...HEADLESS_NODE_PLUGINS, { use: 'panel', options: { listen: { host: '0.0.0.0' } } }] });
    const result = await runNvid(['node', '--config', config]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /listen\.host "0\.0\.0\.0".*tls.*insecurePlainHttpOnLan.*\[NVID_ERR_PLUGIN_OPTIONS\]/);
  });
});
