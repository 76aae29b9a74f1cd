/**
 * The panel in a real browser (Debian's chromium, headless), as a person at
 * the laptop uses it: log in with the link `nvid panel` prints, see the other
 * screens, drop a picture on the lobby's card and watch the lobby's screen
 * (its own Xvfb) show it, get a refusal in words, follow a 200 MB video's
 * progress bar, see a rename elsewhere appear live, read the history, and
 * steer the laptop's own screen (a second Xvfb). Every story saves a
 * screenshot of the page and checks it is not blank.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { findChromium, launchBrowser, openPanel, pngColourCount, savePageScreenshot } from '../../harness/browser.js';
import { Cluster } from '../helpers/cluster.js';
import { solidJpeg, solidPng } from '../helpers/media-fixtures.js';
import { REPO_ROOT, removeDir, tempDir, waitFor } from '../helpers/nvid.js';
import { screenColour } from '../helpers/screen.js';
import { startXvfb, type Xvfb } from '../helpers/xvfb.js';

/** Kept after the run (the folder is git-ignored), so a person can look at what the browser saw. */
const SHOTS = join(REPO_ROOT, '.nvid-test-shots', 'panel');

/** About 200 MB of lossless noise: a send long enough to see its progress bar half-way. */
function bigVideo(path: string): string {
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'nullsrc=s=1280x720:r=25,geq=lum=random(1)*255:cb=128:cr=128', '-frames:v', '143', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', path]);
  return path;
}

/** A drag and drop of files onto an element, as the browser dispatches it (the bytes travel as base64). */
async function dropFiles(page: Page, selector: string, files: Array<{ path: string; name: string; type: string }>): Promise<void> {
  const items = files.map((f) => ({ name: f.name, type: f.type, base64: readFileSync(f.path).toString('base64') }));
  await page.locator(selector).evaluate((target, payload) => {
    // Runs in the page: DOM types are not in this project's TypeScript lib.
    const w = globalThis as any;
    const transfer = new w.DataTransfer();
    for (const item of payload) {
      const bytes = Uint8Array.from(w.atob(item.base64) as string, (c) => c.charCodeAt(0));
      transfer.items.add(new w.File([bytes], item.name, { type: item.type }));
    }
    for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new w.DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
  }, items);
}

/** The colour at the middle of the page's screenshot of its own screen (#shot), as [r, g, b]. */
function shotCentre(page: Page): Promise<number[]> {
  return page.locator('#shot').evaluate((img) => {
    const w = globalThis as any;
    const canvas = w.document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(img, 0, 0);
    return [...context.getImageData(Math.floor(canvas.width / 2), Math.floor(canvas.height / 2), 1, 1).data].slice(0, 3) as number[];
  });
}

describe('the panel in a browser, as a person at the laptop uses it', function () {
  this.timeout(120_000);
  let dir: string;
  let lobbyScreen: Xvfb;
  let laptopScreen: Xvfb;
  let cluster: Cluster;
  let browser: Browser;
  let page: Page;
  let video: string;
  const pageErrors: string[] = [];

  before(async function () {
    if (!findChromium()) {
      console.log('    skipped: chromium is not on PATH (Debian: apt-get install chromium; scripts/bootstrap.sh installs it)');
      this.skip();
    }
    dir = tempDir();
    mkdirSync(SHOTS, { recursive: true });
    video = bigVideo(join(dir, 'noise.mkv'));
    lobbyScreen = await startXvfb('320x240x24');
    laptopScreen = await startXvfb('320x240x24');
    cluster = new Cluster(dir);
    await cluster.startCoordinator();
    await cluster.startNode({ name: 'lobby', plugins: ['crypto', 'media', { use: 'display', options: { display: lobbyScreen.display, policy: 'replace', imageSeconds: 0, audio: false } }] });
    await cluster.startNode({ name: 'kitchen' });
    // The laptop has a screen of its own, so its panel's "This screen" section has something real to steer.
    await cluster.startNode({
      name: 'laptop',
      plugins: ['crypto', 'media', { use: 'display', options: { display: laptopScreen.display, policy: 'queue', imageSeconds: 60, audio: false } }, { use: 'drop-folder', options: { folder: join(dir, 'drop'), stableMs: 300 } }, { use: 'panel' }],
    });
    await cluster.waitForPeers('laptop', ['kitchen', 'lobby']);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await cluster?.stop();
    await lobbyScreen?.stop();
    await laptopScreen?.stop();
    if (dir) removeDir(dir);
  });

  const laptop = () => cluster.node('laptop');
  const lobby = () => cluster.node('lobby');
  const lobbyColour = () => screenColour(lobbyScreen.display, lobbyScreen.width, lobbyScreen.height);
  const laptopColour = () => screenColour(laptopScreen.display, laptopScreen.width, laptopScreen.height);

  /** `nvid panel --json` on the laptop, as a person would run it. */
  async function panelLink(): Promise<{ url: string; loginUrl: string; expiresAt: string }> {
    const result = await laptop().cli(['panel', '--json']);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as { url: string; loginUrl: string; expiresAt: string };
  }

  /** Saves the page as `name`.png and checks it shows something: many colours, not one flat fill. */
  async function shot(name: string, of: Page = page): Promise<void> {
    const path = await savePageScreenshot(of, join(SHOTS, `${name}.png`));
    const colours = await pngColourCount(path);
    assert.ok(colours > 20, `${path} looks blank: ${colours} colours`);
  }

  const peerCard = (name: string) => `.peer[data-peer-name="${name}"]`;
  const transfer = (text: string, state: string) => page.locator(`.transfer[data-state="${state}"]`, { hasText: text });

  it('logs in with the link nvid panel prints, and shows this node and both other screens', async () => {
    const link = await panelLink();
    assert.match(link.loginUrl, /^http:\/\/127\.0\.0\.1:\d+\/login\?token=[A-Za-z0-9_-]{43}$/);

    // Without the link the page says how to log in, and nothing else.
    const stranger = await (await browser.newContext()).newPage();
    await stranger.goto(link.url);
    await stranger.waitForSelector('body[data-state="login"]');
    assert.match(await stranger.locator('#login').innerText(), /Log in with the link that nvid panel prints/);
    assert.equal(await stranger.locator('#app').isVisible(), false);
    await shot('01-not-logged-in', stranger);
    await stranger.context().close();

    page = await openPanel(browser, link.loginUrl);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.locator(peerCard('lobby')).waitFor();
    await page.locator(peerCard('kitchen')).waitFor();
    assert.deepEqual(await page.locator('.peer').evaluateAll((cards) => cards.map((c) => (c as any).dataset.peerName)), ['kitchen', 'lobby']);
    assert.match(await page.locator(peerCard('lobby')).innerText(), /online/);
    const status = await laptop().control<{ id: string; name: string }>('status');
    assert.equal(await page.locator('#node-name').innerText(), 'laptop');
    assert.equal((await page.locator('#node-id').innerText()).replace(/\s/g, ''), status.id, 'the full fingerprint, grouped');
    assert.match(await page.locator('#node-id').innerText(), /^([0-9a-f]{4} )+[0-9a-f]{1,4}$/);
    assert.equal(await page.locator('#drop-folder-section').isVisible(), true, 'the drop folder is on, so its status shows');

    // The link worked once.
    const again = await fetch(link.loginUrl, { redirect: 'manual' });
    assert.equal(again.status, 401);
    await shot('02-logged-in');
  });

  it('sends a JPEG dropped on the lobby\'s card, and the lobby\'s screen shows it', async () => {
    assert.equal(await lobbyColour(), 'black', 'the lobby starts idle');
    const jpeg = await solidJpeg(dir, 'lime.jpg', 'lime', '320x240');
    await dropFiles(page, peerCard('lobby'), [{ path: jpeg, name: 'lime.jpg', type: 'image/jpeg' }]);
    const done = transfer('lime.jpg to lobby', 'sent');
    await done.waitFor({ timeout: 20_000 });
    assert.match(await done.innerText(), /delivered, stored as lime\.jpg/);
    await waitFor(async () => (await lobbyColour()) === 'lime', 'the lobby screen to show the picture', 10_000, 100);
    await shot('03-dropped-picture-delivered');
  });

  it('says in words why a text file named .jpg was refused, and the lobby shows nothing new', async () => {
    const fake = join(dir, 'notes.jpg');
    writeFileSync(fake, 'these are my meeting notes, not a picture\n'.repeat(50));
    const before = await lobby().control<Array<{ name: string }>>('library');
    await dropFiles(page, peerCard('lobby'), [{ path: fake, name: 'notes.jpg', type: 'image/jpeg' }]);
    const refused = transfer('notes.jpg to lobby', 'failed');
    await refused.waitFor({ timeout: 20_000 });
    assert.match(await refused.innerText(), /not delivered: .*(not an image or video|no video stream|invalid)/i);
    assert.deepEqual(await lobby().control<Array<{ name: string }>>('library'), before, 'the lobby kept nothing');
    assert.equal(await lobbyColour(), 'lime', 'the lobby still shows the last good picture');

    // Send with no file chosen: the page says what to do, in its alert region.
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.locator('#errors li', { hasText: 'Choose one or more images or videos first.' }).waitFor();
    await page.getByRole('button', { name: 'Dismiss this message' }).click();
    await shot('04-refused-in-words');
  });

  it('shows a 200 MB video\'s progress as it goes (bytes, rate) and then the receipt', async function () {
    this.timeout(90_000);
    // Every value the send's progress bar takes, with the words beside it, recorded in the page as it changes.
    await page.evaluate(() => {
      const w = globalThis as any;
      w.progressSeen = [];
      new w.MutationObserver((changes: any[]) => {
        for (const change of changes) {
          const row = change.target.closest('.transfer');
          w.progressSeen.push({ state: row.dataset.state, value: change.target.value, max: change.target.max, detail: row.querySelector('.transfer-detail').textContent });
        }
      }).observe(w.document.getElementById('transfers'), { subtree: true, attributes: true, attributeFilter: ['value'] });
    });
    await page.locator(`${peerCard('kitchen')} input[type="checkbox"]`).check();
    await page.locator('#files').setInputFiles(video);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const done = transfer('noise.mkv to kitchen', 'sent');
    await done.waitFor({ timeout: 80_000 });
    assert.match(await done.innerText(), /delivered, stored as noise\.mkv/);
    const seen = await page.evaluate(() => (globalThis as any).progressSeen as Array<{ state: string; value: number; max: number; detail: string }>);
    const halfWay = seen.filter((s) => s.state === 'sending' && s.value > 0 && s.value < s.max);
    assert.ok(halfWay.length > 0, `the bar never stood half-way: ${JSON.stringify(seen.slice(0, 20))}`);
    assert.match(halfWay[0]!.detail, /^[\d.]+ [KMG]?i?B of 19\d\.\d MiB, [\d.]+ [KMG]?i?B\/s/);
    assert.ok(seen.some((s) => s.state === 'uploading'), 'the upload from the browser showed its progress too');
    const kitchen = await cluster.node('kitchen').control<Array<{ name: string; size: number }>>('library');
    assert.ok(kitchen.some((item) => item.name === 'noise.mkv'), 'the kitchen keeps the video');
    await shot('05-big-video-delivered');
  });

  it('shows a rename made elsewhere at once, without a reload', async () => {
    await page.evaluate(() => ((globalThis as any).sameDocument = true));
    const renamed = await lobby().cli(['rename', 'front-hall']);
    assert.equal(renamed.code, 0, renamed.stderr);
    await page.locator(peerCard('front-hall')).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator(peerCard('lobby')).count(), 0);
    await page.locator('#history li[data-kind="peer-renamed"]', { hasText: 'lobby is now front-hall' }).waitFor({ timeout: 10_000 });
    assert.equal(await page.evaluate(() => (globalThis as any).sameDocument), true, 'the page was not reloaded');
    await shot('06-rename-live');
  });

  it('lists the sends in the history, newest first, filtered by kind and paged', async () => {
    const sent = page.locator('#history li[data-kind="sent"]');
    await sent.first().waitFor();
    await page.locator('#history-kind').selectOption('sent');
    await waitFor(async () => (await page.locator('#history li').evaluateAll((rows) => rows.every((r) => (r as any).dataset.kind === 'sent'))) && (await sent.count()) === 2, 'only the two sends to be listed');
    assert.match(await sent.nth(0).innerText(), /noise\.mkv to kitchen .*stored as noise\.mkv/);
    assert.match(await sent.nth(1).innerText(), /lime\.jpg to lobby .*stored as lime\.jpg/);
    await page.locator('#history-kind').selectOption('send-failed');
    await page.locator('#history li[data-kind="send-failed"]', { hasText: 'notes.jpg' }).waitFor();

    // Two entries a page: "Older" brings the next two, none twice.
    await page.goto(`${new URL(page.url()).origin}/?history=2`);
    await page.waitForSelector('body[data-state="ready"]');
    assert.equal(await page.locator('#history li').count(), 2);
    await page.getByRole('button', { name: 'Older' }).click();
    await waitFor(async () => (await page.locator('#history li').count()) === 4, 'a second page of history');
    const texts = await page.locator('#history li').allInnerTexts();
    assert.equal(new Set(texts).size, 4, texts.join('\n'));
    await shot('07-history');
  });

  it('steers the laptop\'s own screen: skip with the keyboard, show again and delete from the library', async () => {
    const red = await solidPng(dir, 'red.png', 'red', '320x240');
    const blue = await solidPng(dir, 'blue.png', 'blue', '320x240');
    for (const file of [red, blue]) {
      const sent = await lobby().cli(['send', file, '--to', 'laptop']);
      assert.equal(sent.code, 0, sent.stderr);
    }
    // Queue policy: red shows for a minute, blue waits.
    await waitFor(async () => (await laptopColour()) === 'red', 'the laptop screen to show red', 10_000, 100);
    await page.locator('#showing', { hasText: 'red.png' }).waitFor({ timeout: 10_000 });
    await page.locator('#queue li', { hasText: 'blue.png' }).waitFor({ timeout: 10_000 });
    await page.locator('#library .library-item[data-name="blue.png"]').waitFor({ timeout: 10_000 });
    await waitFor(() => page.locator('#shot').evaluate((img) => (img as any).naturalWidth > 0), 'the screenshot of the laptop screen').catch(async (err: Error) => {
      throw new Error(`${err.message}; the page says: ${await page.locator('#shot-note').innerText()}`);
    });

    await page.getByRole('button', { name: 'Skip' }).focus();
    await page.keyboard.press('Enter');
    await waitFor(async () => (await laptopColour()) === 'blue', 'the laptop screen to show blue after Skip', 10_000, 100);
    await page.locator('#showing', { hasText: 'blue.png' }).waitFor({ timeout: 10_000 });
    await page.locator('#queue li.empty').waitFor();

    await page.getByRole('button', { name: 'Delete blue.png' }).click();
    await waitFor(async () => (await laptopColour()) === 'black', 'blue to leave the laptop screen at once', 10_000, 100);
    await waitFor(async () => (await page.locator('#library .library-item[data-name="blue.png"]').count()) === 0, 'blue.png to leave the library list');
    assert.ok(!(await laptop().control<Array<{ name: string }>>('library')).some((i) => i.name === 'blue.png'), 'deleted on the node');

    await page.getByRole('button', { name: 'Show red.png again' }).click();
    await waitFor(async () => (await laptopColour()) === 'red', 'red to be back on the laptop screen', 10_000, 100);
    await page.locator('#showing', { hasText: 'red.png' }).waitFor({ timeout: 10_000 });
    await waitFor(() => page.locator('#library .library-item[data-name="red.png"] img').evaluate((img) => (img as any).naturalWidth > 0), 'the thumbnail of red.png');
    // The page's picture of the screen follows it (refreshed on the screen event), not only the node.
    await waitFor(async () => {
      const [r, g, b] = await shotCentre(page);
      return r! > 200 && g! < 60 && b! < 60;
    }, 'the page\'s screenshot of the laptop screen to turn red', 10_000, 200).catch(async (err: Error) => {
      throw new Error(`${err.message}; its centre is rgb(${(await shotCentre(page)).join(', ')})`);
    });
    await shot('08-own-screen');
  });

  it('shows why a drop-folder file waits, and retries it on request', async () => {
    // A picture dropped for a screen nobody runs: the drop folder keeps it and says why.
    const folder = join(dir, 'drop', 'attic');
    mkdirSync(folder, { recursive: true });
    await solidPng(folder, 'poster.png', 'yellow');
    const waiting = page.locator('#drop-files li', { hasText: 'poster.png' });
    await waiting.waitFor({ timeout: 15_000 });
    await waitFor(async () => /attic: .+/.test(await waiting.innerText()), 'the reason it was not sent', 15_000, 200);
    assert.match(await waiting.innerText(), /attic: .*(no peer|unknown|not found|attic)/i);
    await page.getByRole('button', { name: 'Retry now' }).click();
    await page.locator('#announcer', { hasText: /Retrying \d+ file\(s\) now/ }).waitFor();
    await shot('09-drop-folder');
  });

  it('fits a phone (nothing wider than 375 px), and renames the laptop from there', async () => {
    const phone = await openPanel(browser, (await panelLink()).loginUrl, { width: 375, height: 812 });
    phone.on('pageerror', (err) => pageErrors.push(err.message));
    await phone.locator(peerCard('front-hall')).waitFor();
    const widest = await phone.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number);
    assert.ok(widest <= 375, `the page is ${widest} px wide on a 375 px screen`);
    await shot('10-phone', phone);

    // Renamed from the phone: the coordinator gives the name, and the lobby sees it.
    await phone.getByLabel('Name', { exact: true }).fill('laptop-2');
    await phone.getByRole('button', { name: 'Rename' }).click();
    await phone.locator('#node-name', { hasText: 'laptop-2' }).waitFor();
    await waitFor(async () => (await lobby().control<Array<{ name: string }>>('peers')).some((p) => p.name === 'laptop-2'), 'the lobby to know the laptop by its new name');
    await page.locator('#node-name', { hasText: 'laptop-2' }).waitFor({ timeout: 10_000 });
    await phone.context().close();
    assert.deepEqual(pageErrors, [], 'no script error in the page');
  });

  it('sends again, from its row, a send cancelled while the lobby (now front-hall) hung, once it is back; a refused file gets no such button', async () => {
    const jpeg = await solidJpeg(dir, 'blue.jpg', 'blue', '320x240');
    const lobbyPid = lobby().child.pid!;
    // The lobby hangs (its process stopped): the send cannot get through, and the person gives up on it.
    process.kill(lobbyPid, 'SIGSTOP');
    try {
      await dropFiles(page, peerCard('front-hall'), [{ path: jpeg, name: 'blue.jpg', type: 'image/jpeg' }]);
      await transfer('blue.jpg to front-hall', 'sending').waitFor({ timeout: 20_000 });
      await page.getByRole('button', { name: 'Cancel sending blue.jpg to front-hall' }).click();
      await transfer('blue.jpg to front-hall', 'cancelled').waitFor({ timeout: 20_000 });
    } finally {
      process.kill(lobbyPid, 'SIGCONT');
    }
    assert.notEqual(await lobbyColour(), 'blue');
    // The page still holds the file: one click sends it again, and the lobby shows it.
    await page.getByRole('button', { name: 'Send blue.jpg to front-hall again' }).click();
    const delivered = transfer('blue.jpg to front-hall', 'sent');
    await delivered.waitFor({ timeout: 20_000 });
    assert.match(await delivered.innerText(), /delivered, stored as blue\.jpg/);
    await waitFor(async () => (await lobbyColour()) === 'blue', 'the lobby screen to show the picture sent again', 10_000, 100);
    assert.equal(await page.getByRole('button', { name: 'Send blue.jpg to front-hall again' }).count(), 0, 'the button went with its use');
    // A file that was refused for what it is would only be refused again: its row offers nothing.
    await transfer('notes.jpg to lobby', 'failed').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Send notes.jpg to lobby again' }).count(), 0);
    await shot('11-sent-again');
    assert.deepEqual(pageErrors, [], 'no script error in the page');
  });
});
