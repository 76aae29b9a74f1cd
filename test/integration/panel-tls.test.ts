/**
 * The panel under TLS, as it must run on a LAN address: a node configured with
 * a certificate serves only HTTPS, the login link says https, and the session
 * cookie is marked Secure as well as HttpOnly and SameSite=Strict.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { Cluster, HEADLESS_NODE_PLUGINS } from '../helpers/cluster.js';
import { removeDir, tempDir, waitFor } from '../helpers/nvid.js';

interface Link {
  url: string;
  loginUrl: string;
}

/** GET over HTTPS trusting exactly this certificate; the status and headers. */
function httpsGet(url: string, ca: Buffer): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('panel: under TLS', function () {
  this.timeout(60_000);
  let dir: string;
  let cluster: Cluster;

  before(() => {
    dir = tempDir('nvid-panel-tls-');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'panel.key'), '-out', join(dir, 'panel.crt')], { stdio: 'ignore' });
  });
  after(async () => {
    await cluster?.stop();
    removeDir(dir);
  });

  it('serves HTTPS only, with a Secure session cookie', async () => {
    cluster = new Cluster(dir);
    await cluster.startCoordinator();
    const node = await cluster.startNode({ name: 'alpha', plugins: [...HEADLESS_NODE_PLUGINS, { use: 'panel', options: { tls: { cert: join(dir, 'panel.crt'), key: join(dir, 'panel.key') } } }] });
    // The control socket answers before the plugins' start hooks finish: ask until the panel serves.
    const link = await waitFor(() => node.control<Link>('panel').catch(() => undefined), 'the panel to serve');
    assert.match(link.loginUrl, /^https:\/\/127\.0\.0\.1:\d+\/login\?token=/);
    const ca = readFileSync(join(dir, 'panel.crt'));
    const login = await httpsGet(link.loginUrl, ca);
    assert.equal(login.status, 303);
    const cookie = String(login.headers['set-cookie']);
    assert.match(cookie, /nvid_panel=[A-Za-z0-9_-]+/);
    for (const flag of [/HttpOnly/i, /SameSite=Strict/i, /Secure/i]) assert.match(cookie, flag);
    // Plain HTTP to the same port gets no page: the TLS server drops it.
    const plain = await new Promise<string>((resolve) => {
      httpGet(link.url.replace('https:', 'http:') + '/api/session', (res) => resolve(`answered ${res.statusCode}`)).on('error', (err) => resolve(`failed: ${err.message}`));
    });
    assert.match(plain, /^failed|answered 400/);
  });
});
