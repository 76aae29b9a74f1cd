/**
 * `npm run demo`: a coordinator and two display screens on this machine, a
 * laptop node that sends them sample media through its drop folder, and a
 * screenshot of both screens. The laptop also runs the web panel: the demo
 * prints its login link and saves a browser's screenshot of it.
 *
 * Each screen gets its own Xvfb (so the two full-screen players do not cover
 * each other); with a terminal the demo keeps running until Ctrl-C so you can
 * send more (it prints the commands), without one (CI) it exits by itself.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { Cluster } from '../harness/cluster.js';
import { NVID_BIN, REPO_ROOT, sleep, waitFor, type NvidProcess } from '../harness/nvid.js';
import { startXvfb, type Xvfb } from '../harness/xvfb.js';
import { grabFrame, isAllBlack } from '../harness/screen.js';
import { findChromium, screenshotPanel } from '../harness/browser.js';

const WORK = join(REPO_ROOT, '.nvid-demo');
const SCREENSHOT = join(REPO_ROOT, 'demo-screenshot.png');
const PANEL_SCREENSHOT = join(REPO_ROOT, 'demo-panel.png');
const SCREEN_SIZE = '640x360x24';
const interactive = Boolean(process.stdout.isTTY) && !process.env.CI;

const say = (text: string) => process.stdout.write(`${text}\n`);

function ffmpeg(args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Sample media, made here so nothing large lives in the repository. */
function makeSamples(dir: string): { picture: string; clip: string; poster: string } {
  mkdirSync(dir, { recursive: true });
  const picture = join(dir, 'test-pattern.png');
  const poster = join(dir, 'poster.jpg');
  const clip = join(dir, 'clip.mp4');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=1280x720', '-frames:v', '1', picture]);
  ffmpeg(['-f', 'lavfi', '-i', 'mandelbrot=size=1280x720', '-frames:v', '1', poster]);
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=4', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=4', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', clip]);
  return { picture, clip, poster };
}

/** The meeting room keeps a picture up until the next one comes; the lobby cycles through what it has. */
function displayPlugin(screen: Xvfb, policy: 'replace' | 'loop') {
  return { use: 'display', options: { output: 'x11', display: screen.display, policy, imageSeconds: policy === 'replace' ? 0 : 4, audio: false } };
}

async function main(): Promise<void> {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  say('nvid demo: making sample media with ffmpeg');
  const samples = makeSamples(join(WORK, 'media'));

  say('starting two virtual screens (Xvfb), a coordinator and three nodes on 127.0.0.1');
  const screens = [await startXvfb(SCREEN_SIZE), await startXvfb(SCREEN_SIZE)] as const;
  const cluster = new Cluster(WORK);
  const shutdown = async () => {
    await cluster.stop().catch(() => undefined);
    for (const screen of screens) await screen.stop().catch(() => undefined);
  };
  try {
    await cluster.startCoordinator();
    await cluster.startNode({ name: 'meeting-room', plugins: ['crypto', 'media', displayPlugin(screens[0], 'replace')] });
    await cluster.startNode({ name: 'lobby', plugins: ['crypto', 'media', displayPlugin(screens[1], 'loop')] });
    // The laptop sends through a drop folder: a file put into drop/<peer>/ goes to that peer.
    const drop = join(WORK, 'drop');
    const laptop = await cluster.startNode({
      name: 'laptop',
      plugins: ['crypto', 'media', { use: 'display', options: { output: 'headless' } }, { use: 'drop-folder', options: { folder: drop, stableMs: 300 } }, { use: 'panel' }],
    });
    await cluster.waitForPeers('laptop', ['lobby', 'meeting-room']);

    const drops: Array<[string, string]> = [
      [samples.picture, 'meeting-room'],
      [samples.poster, 'lobby'],
      [samples.clip, 'lobby'],
    ];
    for (const [file, to] of drops) {
      mkdirSync(join(drop, to), { recursive: true });
      copyFileSync(file, join(drop, to, basename(file)));
      say(`dropped ${basename(file)} into ${relative(REPO_ROOT, join(drop, to))}/`);
    }
    for (const [file, to] of drops) {
      const sent = join(drop, '.sent', to, basename(file));
      await waitFor(() => existsSync(sent), `${basename(file)} to be delivered to ${to}`, 30_000, 100);
      say(`  delivered to ${to}; moved to ${relative(REPO_ROOT, sent)}`);
    }

    // First pixels take under a second under Xvfb; wait until both screens show something.
    for (const [index, screen] of screens.entries()) {
      await waitFor(async () => !isAllBlack(await grabFrame(screen.display, screen.width, screen.height)), `screen ${index + 1} to show the media`, 20_000, 200);
    }
    await sleep(500);
    const shots = [join(WORK, 'meeting-room.png'), join(WORK, 'lobby.png')];
    await cluster.node('meeting-room').cli(['screenshot', '--out', shots[0]!]);
    await cluster.node('lobby').cli(['screenshot', '--out', shots[1]!]);
    if (!shots.every(existsSync)) throw new Error('the screenshots were not written');
    ffmpeg(['-i', shots[0]!, '-i', shots[1]!, '-filter_complex', '[0][1]hstack=inputs=2', '-frames:v', '1', '-update', '1', SCREENSHOT]);

    say('');
    say(`screenshot of both screens (meeting-room left, lobby right): ${SCREENSHOT}`);
    say('what the lobby saw:');
    const history = await cluster.node('lobby').cli(['history', '--limit', '6']);
    say(history.stdout.replace(/^/gm, '  ').trimEnd());
    say('');
    await showPanel(laptop);
    say('');
    const state = (name: string) => `--state ${relative(REPO_ROOT, cluster.node(name).stateDir)}`;
    const nvid = `node ${relative(REPO_ROOT, NVID_BIN)}`;
    say('try it yourself (from the repository folder):');
    say(`  ${nvid} peers ${state('laptop')}`);
    say(`  ${nvid} send YOUR.jpg --to lobby ${state('laptop')}`);
    say(`  ${nvid} history ${state('lobby')}`);
    say(`  ${nvid} screenshot --out now.png ${state('lobby')}`);
    if (interactive) {
      say('\nthe demo keeps running; press Ctrl-C to stop it');
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
  } finally {
    await shutdown();
  }
  say('demo finished');
}

/**
 * The laptop's web panel: a browser's screenshot of it (when chromium is
 * installed), then a fresh login link for the person (each link works once).
 */
async function showPanel(laptop: NvidProcess): Promise<void> {
  type Link = { url: string; loginUrl: string };
  if (findChromium()) {
    const { loginUrl } = await laptop.control<Link>('panel');
    await screenshotPanel(loginUrl, PANEL_SCREENSHOT, { ready: '#history li[data-kind="sent"]' });
    say(`screenshot of the laptop's web panel in a browser: ${PANEL_SCREENSHOT}`);
  } else {
    say('(no browser screenshot of the panel: chromium is not installed)');
  }
  const { loginUrl } = await laptop.control<Link>('panel');
  say('the laptop\'s web panel: while the demo runs, open this link in a browser on this machine (once, within 10 minutes):');
  say(`  ${loginUrl}`);
  say(`  (another link: node ${relative(REPO_ROOT, NVID_BIN)} panel --state ${relative(REPO_ROOT, laptop.stateDir)})`);
}

main().catch((err: Error) => {
  process.stderr.write(`demo failed: ${err.message}\n`);
  process.exit(1);
});
