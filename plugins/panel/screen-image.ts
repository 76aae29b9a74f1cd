/**
 * What the screen shows now, as a PNG of the width the page asked for: the
 * host's screenshot, scaled by ffmpeg, both files gone once it is read.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { scaledFrame } from './ffmpeg-image.js';

export async function screenImage(screenshot: (out: string) => Promise<string>, scratchDir: string, width: number): Promise<Buffer> {
  await mkdir(scratchDir, { recursive: true, mode: 0o700 });
  const id = randomBytes(8).toString('hex');
  const full = join(scratchDir, `${id}-full.png`);
  const scaled = join(scratchDir, `${id}-scaled.png`);
  try {
    const written = await screenshot(full);
    await scaledFrame(written, scaled, width);
    return await readFile(scaled);
  } finally {
    await Promise.all([rm(full, { force: true }), rm(scaled, { force: true })]);
  }
}
