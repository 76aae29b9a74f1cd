/**
 * The few things nvid asks of the X server, through the x11-utils programs
 * (xwininfo) and ffmpeg's x11grab: is the display there, how big is it, is a
 * window up yet, and what does the screen show.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { NvidError } from '../../core/errors.js';

const run = promisify(execFile);

/** Screen size in pixels. */
export interface ScreenSize {
  readonly width: number;
  readonly height: number;
}

/**
 * Opens `display` with `xwininfo -root` and returns its size.
 *
 * @throws NvidError NVID_ERR_DISPLAY_UNAVAILABLE when the display cannot be opened
 */
export async function probeDisplay(xwininfo: string, display: string): Promise<ScreenSize> {
  let stdout: string;
  try {
    ({ stdout } = await run(xwininfo, ['-display', display, '-root'], { timeout: 5000 }));
  } catch (err) {
    const text = ((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n')[0];
    throw new NvidError('NVID_ERR_DISPLAY_UNAVAILABLE', `cannot open X display "${display}": ${text}; start an X server (or Xvfb) there, set the display option, or use output "headless"`, { cause: err });
  }
  const width = Number(/Width:\s*(\d+)/.exec(stdout)?.[1]);
  const height = Number(/Height:\s*(\d+)/.exec(stdout)?.[1]);
  if (!(width > 0 && height > 0)) throw new NvidError('NVID_ERR_DISPLAY_UNAVAILABLE', `X display "${display}" reports no screen size`);
  return { width, height };
}

/**
 * The id of the window with exactly this title once it is mapped and
 * viewable; undefined before.
 */
export async function viewableWindowId(xwininfo: string, display: string, title: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(xwininfo, ['-display', display, '-name', title], { timeout: 2000 });
    if (!/Map State:\s*IsViewable/.test(stdout)) return undefined;
    return /Window id:\s*(0x[0-9a-f]+)/i.exec(stdout)?.[1];
  } catch {
    // "No window with name ... exists" exits non-zero: not up yet.
    return undefined;
  }
}

/** Moves a window with xdotool: where the screen's own X connection (x-connection.ts) cannot be opened. */
export async function moveWindow(xdotool: string, display: string, windowId: string, x: number, y: number): Promise<void> {
  await run(xdotool, ['windowmove', windowId, String(x), String(y)], { timeout: 2000, env: { ...process.env, DISPLAY: display } });
}

/**
 * Writes a PNG of the whole screen with ffmpeg's x11grab.
 *
 * @throws NvidError NVID_ERR_DISPLAY_UNAVAILABLE when the grab fails
 */
export async function grabScreenPng(ffmpeg: string, display: string, out: string): Promise<string> {
  try {
    await run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'x11grab', '-i', display, '-frames:v', '1', '-update', '1', '-c:v', 'png', '-f', 'image2', out], { timeout: 15_000 });
  } catch (err) {
    const text = ((err as { stderr?: string }).stderr ?? (err as Error).message).trim();
    throw new NvidError('NVID_ERR_DISPLAY_UNAVAILABLE', `cannot grab X display "${display}": ${text}`, { cause: err });
  }
  return out;
}
