import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { NvidProcess, REPO_ROOT, removeDir, tempDir } from '../helpers/nvid.js';
import { startXvfb, type Xvfb } from '../helpers/xvfb.js';

const DOCKER = join(REPO_ROOT, 'docker');

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: Array<string | { source: string; target: string }>;
}

/** The compose file as docker-compose itself resolves it (no Docker engine runs here, so this is the static check). */
function resolvedCompose(): { services: Record<string, Service> } {
  const text = execFileSync('docker-compose', ['-f', join(DOCKER, 'compose.yaml'), 'config'], { encoding: 'utf8' });
  return parse(text) as { services: Record<string, Service> };
}

describe('docker/', function () {
  this.timeout(120_000);
  let dir: string;
  let screen: Xvfb;
  before(async () => {
    dir = tempDir();
    screen = await startXvfb('320x240x24');
  });
  after(async () => {
    await screen.stop();
    removeDir(dir);
  });

  it('has a compose file that docker-compose validates: a coordinator, three display nodes and their X server', () => {
    execFileSync('docker-compose', ['-f', join(DOCKER, 'compose.yaml'), 'config', '-q']);
    const { services } = resolvedCompose();
    assert.deepEqual(Object.keys(services).sort(), ['coordinator', 'kitchen', 'lobby', 'meeting-room', 'xserver']);
    for (const name of ['kitchen', 'lobby', 'meeting-room']) {
      assert.equal(services[name]!.command![0], 'node');
      assert.match(services[name]!.environment!.DISPLAY!, /^:\d$/);
      assert.ok(services[name]!.volumes!.some((v) => typeof v === 'object' ? v.target === '/tmp/.X11-unix' : v.includes(':/tmp/.X11-unix')), `${name} shares the X socket`);
    }
  });

  it('builds images that run as a non-root user with ffmpeg inside, from files that exist', () => {
    const dockerfile = readFileSync(join(DOCKER, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /apt-get install[^\n]*ffmpeg/);
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /ENTRYPOINT \["tini", "--", "nvid"\]/);
    for (const file of ['Dockerfile', 'xserver.Dockerfile']) {
      const text = readFileSync(join(DOCKER, file), 'utf8');
      for (const [, source] of text.matchAll(/^COPY (?!--from)(\S+)/gm)) assert.ok(existsSync(join(REPO_ROOT, source!)), `${file}: COPY ${source} exists`);
    }
    assert.match(readFileSync(join(DOCKER, 'xserver.Dockerfile'), 'utf8'), /^USER display$/m);
  });

  it("runs each nvid service's own command and config here, as its container would", async () => {
    const { services } = resolvedCompose();
    for (const [name, service] of Object.entries(services)) {
      if (service.image !== 'nvid:latest') continue;
      const [role, flag, inContainer] = service.command!;
      assert.equal(flag, '--config');
      const config = join(DOCKER, 'config', inContainer!.replace('/etc/nvid/', ''));
      assert.ok(existsSync(config), `${name}: ${config}`);
      const parsed = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
      // Same command and config; only the state folder is a temporary one, and DISPLAY is this test's Xvfb.
      const proc = await NvidProcess.start(role as 'coordinator' | 'node', join(dir), { ...parsed, stateDir: join(dir, name) }, { env: { DISPLAY: screen.display } });
      try {
        const status = await proc.control<{ role: string; name: string; plugins: Array<{ name: string }> }>('status');
        assert.equal(status.role, role);
        assert.equal(status.name, name);
        assert.deepEqual(status.plugins.map((p) => p.name), role === 'coordinator' ? ['transport'] : ['transport', 'crypto', 'media', 'display']);
      } finally {
        await proc.stop();
      }
    }
  });
});
