import assert from 'node:assert/strict';
import { FailureLimiter } from '../../../plugins/panel/failure-limiter.js';
import { HostGuard } from '../../../plugins/panel/host-guard.js';
import { LoginTokens } from '../../../plugins/panel/login-tokens.js';
import { checkListenSafety, isLoopbackHost, type PanelOptions } from '../../../plugins/panel/options.js';
import { csrfMatches, SessionStore } from '../../../plugins/panel/sessions.js';

/** A clock the test moves by hand. */
function clock(start = 1_000_000) {
  const c = { now: start, fn: () => c.now };
  return c;
}

describe('panel: login tokens', () => {
  it('mints 32 random bytes in base64url, valid once', () => {
    const tokens = new LoginTokens(600_000);
    const { token } = tokens.mint();
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(tokens.redeem(token), true);
    assert.equal(tokens.redeem(token), false, 'a second use fails');
    assert.equal(tokens.redeem('made-up'), false);
    assert.notEqual(tokens.mint().token, tokens.mint().token);
  });

  it('expires after its time', () => {
    const c = clock();
    const tokens = new LoginTokens(600_000, c.fn);
    const early = tokens.mint().token;
    const late = tokens.mint().token;
    c.now += 599_999;
    assert.equal(tokens.redeem(early), true);
    c.now += 1;
    assert.equal(tokens.redeem(late), false);
  });
});

describe('panel: sessions and CSRF', () => {
  it('a session lives while used (sliding) and ends after ttl without a request', () => {
    const c = clock();
    const sessions = new SessionStore(1000, c.fn);
    const s = sessions.create();
    c.now += 900;
    assert.equal(sessions.touch(s.id), s);
    c.now += 900;
    assert.equal(sessions.touch(s.id), s, 'the touch 900 ms ago extended it');
    c.now += 1000;
    assert.equal(sessions.touch(s.id), undefined);
    assert.equal(sessions.touch(undefined), undefined);
    assert.equal(sessions.touch('nope'), undefined);
  });

  it('logout ends a session; ids and CSRF tokens are distinct and random', () => {
    const sessions = new SessionStore(1000);
    const a = sessions.create();
    const b = sessions.create();
    assert.notEqual(a.id, b.id);
    assert.notEqual(a.csrfToken, a.id);
    sessions.end(a.id);
    assert.equal(sessions.touch(a.id), undefined);
    assert.equal(sessions.touch(b.id), b);
  });

  it('the CSRF header must be exactly the session\'s token', () => {
    const sessions = new SessionStore(1000);
    const a = sessions.create();
    const b = sessions.create();
    assert.equal(csrfMatches(a, a.csrfToken), true);
    assert.equal(csrfMatches(a, b.csrfToken), false);
    assert.equal(csrfMatches(a, undefined), false);
    assert.equal(csrfMatches(a, ''), false);
    assert.equal(csrfMatches(a, a.csrfToken.slice(1)), false);
  });
});

describe('panel: failed-login limit', () => {
  it('blocks an address after 10 failures within a minute, others not, and forgets after the minute', () => {
    const c = clock();
    const limiter = new FailureLimiter(10, 60_000, c.fn);
    for (let i = 0; i < 10; i++) {
      assert.equal(limiter.blocked('10.0.0.1'), false, `attempt ${i + 1}`);
      limiter.fail('10.0.0.1');
      c.now += 1000;
    }
    assert.equal(limiter.blocked('10.0.0.1'), true);
    assert.equal(limiter.blocked('10.0.0.2'), false);
    c.now += 51_000;
    assert.equal(limiter.blocked('10.0.0.1'), false, 'the first failure left the window');
  });
});

describe('panel: Host and Origin', () => {
  const guard = new HostGuard(8080, ['screen.lan', 'other.lan:9000'], 'http');

  it('answers only its own hosts at its port', () => {
    for (const host of ['127.0.0.1:8080', 'localhost:8080', 'LOCALHOST:8080', '[::1]:8080', 'screen.lan:8080', 'other.lan:9000']) assert.equal(guard.hostAllowed(host), true, host);
    for (const host of [undefined, '', '127.0.0.1', '127.0.0.1:8081', 'evil.example:8080', 'screen.lan:9000', 'other.lan:8080']) assert.equal(guard.hostAllowed(host), false, String(host));
  });

  it('lets an absent Origin through, and a present one only when it is the panel itself', () => {
    assert.equal(guard.originAllowed(undefined), true);
    assert.equal(guard.originAllowed('http://127.0.0.1:8080'), true);
    assert.equal(guard.originAllowed('http://screen.lan:8080'), true);
    for (const origin of ['null', 'http://evil.example', 'https://127.0.0.1:8080', 'http://127.0.0.1:8080.evil.example', 'http://127.0.0.1:9999']) assert.equal(guard.originAllowed(origin), false, origin);
  });
});

describe('panel: listen address safety', () => {
  const options = (over: Partial<PanelOptions>): PanelOptions => ({ listen: { host: '127.0.0.1', port: 0 }, allowedHosts: [], insecurePlainHttpOnLan: false, loginTtlMs: 1, sessionTtlMs: 1, maxConcurrentSends: 1, ...over });

  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) assert.equal(isLoopbackHost(host), true, host);
    for (const host of ['0.0.0.0', '::', '192.168.1.5', 'screen.lan', '128.0.0.1']) assert.equal(isLoopbackHost(host), false, host);
  });

  it('refuses a LAN address without TLS or the explicit opt-in, naming both options', () => {
    assert.doesNotThrow(() => checkListenSafety(options({})));
    assert.throws(() => checkListenSafety(options({ listen: { host: '0.0.0.0', port: 0 } })), (err: Error & { code?: string }) => err.code === 'NVID_ERR_PLUGIN_OPTIONS' && /tls/.test(err.message) && /insecurePlainHttpOnLan/.test(err.message));
    assert.doesNotThrow(() => checkListenSafety(options({ listen: { host: '0.0.0.0', port: 0 }, insecurePlainHttpOnLan: true })));
    assert.doesNotThrow(() => checkListenSafety(options({ listen: { host: '192.168.1.5', port: 0 }, tls: { cert: 'c.pem', key: 'k.pem' } })));
  });
});
