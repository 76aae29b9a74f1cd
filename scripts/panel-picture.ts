/**
 * `node dist/scripts/panel-picture.js` (after `npm run build`): draws
 * docs/panel.png, the README's picture of the web panel, from a real run
 * rather than by hand. A coordinator, a lobby screen and a meeting room, and
 * a laptop with a screen of its own and the panel; a browser logs in, sends
 * a picture to the lobby through the page, and the lobby sends one back, so
 * every section has something real to show. Then one full-page screenshot,
 * reduced to 256 colours so the repository stays small.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { launchBrowser, openPanel, savePageScreenshot } from '../harness/browser.js';
import { Cluster } from '../harness/cluster.js';
import { REPO_ROOT, sleep, waitFor } from '../harness/nvid.js';
import { startXvfb, type Xvfb } from '../harness/xvfb.js';

const WORK = join(REPO_ROOT, '.nvid-panel-picture');
const OUT = join(REPO_ROOT, 'docs', 'panel.png');
const say = (text: string) => process.stdout.write(`${text}\n`);

function ffmpeg(args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

const screenOf = (screen: Xvfb) => ({ use: 'display', options: { display: screen.display, policy: 'replace', imageSeconds: 0, audio: false } });

async function main(): Promise<void> {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const poster = join(WORK, 'poster.jpg');
  const pattern = join(WORK, 'test-pattern.png');
  ffmpeg(['-f', 'lavfi', '-i', 'mandelbrot=size=1280x720', '-frames:v', '1', poster]);
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=1280x720', '-frames:v', '1', pattern]);

  const screens = [await startXvfb('640x360x24'), await startXvfb('640x360x24')] as const;
  const cluster = new Cluster(WORK);
  try {
    await cluster.startCoordinator();
    const lobby = await cluster.startNode({ name: 'lobby', plugins: ['crypto', 'media', screenOf(screens[0])] });
    await cluster.startNode({ name: 'meeting-room' });
    const laptop = await cluster.startNode({ name: 'laptop', plugins: ['crypto', 'media', screenOf(screens[1]), { use: 'panel' }] });
    await cluster.waitForPeers('laptop', ['lobby', 'meeting-room']);
    const back = await lobby.cli(['send', pattern, '--to', 'laptop']);
    if (back.code !== 0) throw new Error(`the lobby could not send to the laptop: ${back.stderr}`);

    const browser = await launchBrowser();
    try {
      const { loginUrl } = await laptop.control<{ loginUrl: string }>('panel');
      const page = await openPanel(browser, loginUrl, { width: 1280, height: 900 });
      await page.locator('.peer[data-peer-name="lobby"] input[type="checkbox"]').check();
      await page.locator('#files').setInputFiles(poster);
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      await page.locator('.transfer[data-state="sent"]').waitFor({ timeout: 20_000 });
      await page.locator('#library .library-item img').first().waitFor();
      await waitFor(() => page.locator('#shot').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0), 'the screenshot in the page', 15_000);
      await sleep(500);
      const raw = await savePageScreenshot(page, join(WORK, 'panel-full.png'));
      ffmpeg(['-i', raw, '-vf', 'split[a][b];[a]palettegen=max_colors=256[p];[b][p]paletteuse=dither=none', '-frames:v', '1', '-update', '1', OUT]);
    } finally {
      await browser.close();
    }
  } finally {
    await cluster.stop().catch(() => undefined);
    for (const screen of screens) await screen.stop().catch(() => undefined);
  }
  say(`${relative(REPO_ROOT, OUT)}: ${Math.round(statSync(OUT).size / 1024)} KiB`);
}

main().catch((err: Error) => {
  process.stderr.write(`panel-picture failed: ${err.message}\n`);
  process.exit(1);
});
