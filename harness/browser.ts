/**
 * A real browser for the panel: Debian's chromium, headless, driven by
 * playwright-core (which never downloads a browser of its own). Shared by the
 * panel's browser tests, the demo and the script that draws docs/panel.png.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';

const run = promisify(execFile);

/** The `chromium` on PATH (the Debian package's command), or undefined. */
export function findChromium(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'chromium');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** Launches chromium headless; as root it needs --no-sandbox (its sandbox refuses to run as root). */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error('chromium is not installed (Debian: apt-get install chromium)');
  const root = process.getuid?.() === 0;
  return chromium.launch({ executablePath, headless: true, chromiumSandbox: !root, args: ['--disable-dev-shm-usage'] });
}

export interface PanelPageOptions {
  /** CSS pixels; a phone is 375 wide. */
  width?: number;
  height?: number;
}

/**
 * Opens the panel through a one-time login link (from `nvid panel`) in a
 * fresh browser context, and waits until the page says it is ready.
 */
export async function openPanel(browser: Browser, loginUrl: string, options: PanelPageOptions = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: options.height ?? 900 } });
  const page = await context.newPage();
  await page.goto(loginUrl);
  await page.waitForSelector('body[data-state="ready"]', { timeout: 15_000 });
  return page;
}

/** Saves the whole page as a PNG; returns its path. */
export async function savePageScreenshot(page: Page, path: string): Promise<string> {
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * How many distinct colours a PNG has, counted on a 64-pixel-wide copy
 * (ffmpeg): a blank or failed page has one or two, a drawn panel dozens.
 */
export async function pngColourCount(path: string): Promise<number> {
  if (statSync(path).size < 1000) return 1;
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', path, '-vf', 'scale=64:-1', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { encoding: 'buffer', maxBuffer: 64 * 4096 * 3 });
  const colours = new Set<number>();
  for (let i = 0; i + 2 < stdout.length; i += 3) colours.add((stdout[i]! << 16) | (stdout[i + 1]! << 8) | stdout[i + 2]!);
  return colours.size;
}

/**
 * One look at the panel: a browser opens the login link, waits until the page
 * has drawn its peers (and `ready`, a selector, if given), saves a
 * screenshot and closes. For the demo and docs/panel.png.
 */
export async function screenshotPanel(loginUrl: string, out: string, options: PanelPageOptions & { ready?: string } = {}): Promise<string> {
  const browser = await launchBrowser();
  try {
    const page = await openPanel(browser, loginUrl, options);
    await page.waitForSelector('#peers li', { timeout: 15_000 });
    if (options.ready) await page.waitForSelector(options.ready, { timeout: 15_000 });
    return await savePageScreenshot(page, out);
  } finally {
    await browser.close();
  }
}
