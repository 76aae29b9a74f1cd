/**
 * Looks at an X screen the way a viewer would: grabs frames with ffmpeg's
 * x11grab as raw RGB and says which colour dominates, or whether it is black.
 * `ScreenSampler` keeps grabbing at a steady rate to catch short gaps.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Rgb {
  readonly r: number;
  readonly g: number;
  readonly b: number;
}

/** The most common colour of a frame and the share of pixels near it. */
export interface Dominant {
  readonly colour: Rgb;
  readonly share: number;
}

/** Grabs one frame of the whole screen as rgb24 bytes. */
export async function grabFrame(display: string, width: number, height: number): Promise<Buffer> {
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'x11grab', '-draw_mouse', '0', '-video_size', `${width}x${height}`, '-i', display, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
    encoding: 'buffer',
    maxBuffer: width * height * 3 + 1024,
    timeout: 15_000,
  });
  return stdout;
}

/** The dominant colour, counting every 3rd pixel in 32-level buckets. */
export function dominantColour(frame: Buffer): Dominant {
  const counts = new Map<number, number>();
  let total = 0;
  for (let i = 0; i + 2 < frame.length; i += 9) {
    const key = ((frame[i]! >> 3) << 10) | ((frame[i + 1]! >> 3) << 5) | (frame[i + 2]! >> 3);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    total++;
  }
  let bestKey = 0;
  let best = -1;
  for (const [key, count] of counts) {
    if (count > best) {
      best = count;
      bestKey = key;
    }
  }
  const colour = { r: ((bestKey >> 10) << 3) + 4, g: (((bestKey >> 5) & 31) << 3) + 4, b: ((bestKey & 31) << 3) + 4 };
  return { colour, share: total ? best / total : 0 };
}

/** The name of the colour of one pixel of an rgb24 frame `width` pixels wide ('black' included), or undefined. */
export function colourAt(frame: Buffer, width: number, x: number, y: number): string | undefined {
  const i = (y * width + x) * 3;
  const pixel = { r: frame[i]!, g: frame[i + 1]!, b: frame[i + 2]! };
  return pixel.r < 24 && pixel.g < 24 && pixel.b < 24 ? 'black' : nameColour(pixel);
}

/**
 * The colour of each column `xs` of the screen, sampled at the rows `ys`:
 * the colour name when every row agrees, else the names joined by "/".
 */
export async function columnColours(display: string, width: number, height: number, xs: readonly number[], ys: readonly number[]): Promise<string[]> {
  const frame = await grabFrame(display, width, height);
  return xs.map((x) => [...new Set(ys.map((y) => colourAt(frame, width, x, y)))].join('/'));
}

/** Whether every pixel is (nearly) black. */
export function isAllBlack(frame: Buffer, threshold = 24): boolean {
  for (let i = 0; i < frame.length; i++) if (frame[i]! > threshold) return false;
  return true;
}

/** Colours the tests use, as ffmpeg names them. */
export const PALETTE: Readonly<Record<string, Rgb>> = {
  black: { r: 0, g: 0, b: 0 },
  white: { r: 255, g: 255, b: 255 },
  red: { r: 255, g: 0, b: 0 },
  lime: { r: 0, g: 255, b: 0 },
  blue: { r: 0, g: 0, b: 255 },
  yellow: { r: 255, g: 255, b: 0 },
  magenta: { r: 255, g: 0, b: 255 },
  cyan: { r: 0, g: 255, b: 255 },
};

/** The palette name within `tolerance` per channel of `c`, or undefined. */
export function nameColour(c: Rgb, tolerance = 48): string | undefined {
  for (const [name, p] of Object.entries(PALETTE)) {
    if (Math.abs(p.r - c.r) <= tolerance && Math.abs(p.g - c.g) <= tolerance && Math.abs(p.b - c.b) <= tolerance) return name;
  }
  return undefined;
}

/** What the screen mostly shows now, by palette name (`?` when no name fits, `mixed` when nothing dominates). */
export async function screenColour(display: string, width: number, height: number, minShare = 0.6): Promise<string> {
  const d = dominantColour(await grabFrame(display, width, height));
  return d.share < minShare ? 'mixed' : (nameColour(d.colour) ?? '?');
}

/** One sampled frame. */
export interface Sample {
  /** Milliseconds since the sampler started. */
  readonly t: number;
  /** Palette name, `?` or `mixed`. */
  readonly name: string;
  readonly black: boolean;
  readonly frame: Buffer;
}

/**
 * Grabs the screen continuously (one ffmpeg x11grab process) at `fps` and
 * keeps every frame's verdict. Frames are kept only as long as `keepFrames` says.
 */
export class ScreenSampler {
  readonly samples: Sample[] = [];
  readonly #child: ChildProcess;
  readonly #frameBytes: number;
  /** Date.now() when sampling began; `Sample.t` counts from here. */
  readonly startedAt = Date.now();
  readonly #exited: Promise<void>;
  #pending: Buffer = Buffer.alloc(0);

  constructor(display: string, width: number, height: number, fps = 20, keepFrames = false) {
    this.#frameBytes = width * height * 3;
    this.#child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'x11grab', '-draw_mouse', '0', '-framerate', String(fps), '-video_size', `${width}x${height}`, '-i', display, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    this.#exited = new Promise((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.stdout!.on('data', (chunk: Buffer) => {
      this.#pending = Buffer.concat([this.#pending, chunk]);
      while (this.#pending.length >= this.#frameBytes) {
        const frame = this.#pending.subarray(0, this.#frameBytes);
        this.#pending = Buffer.from(this.#pending.subarray(this.#frameBytes));
        const d = dominantColour(frame);
        const name = d.share < 0.6 ? 'mixed' : (nameColour(d.colour) ?? '?');
        this.samples.push({ t: Date.now() - this.startedAt, name, black: isAllBlack(frame), frame: keepFrames ? Buffer.from(frame) : Buffer.alloc(0) });
      }
    });
  }

  /** Resolves once the first frame arrived. */
  async ready(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.samples.length === 0) {
      if (Date.now() > deadline) throw new Error('the screen sampler produced no frame');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Waits until a sample satisfies `test`; returns it. */
  async waitFor(test: (s: Sample) => boolean, timeoutMs: number, from = 0): Promise<Sample> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.samples.slice(from).find(test);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`screen never matched within ${timeoutMs} ms; last: ${this.samples.at(-1)?.name ?? 'no frame'}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Consecutive runs of the same name: `[['red', 12], ['lime', 30], ...]`. */
  runs(from = 0): [string, number][] {
    const out: [string, number][] = [];
    for (const s of this.samples.slice(from)) {
      const last = out.at(-1);
      if (last && last[0] === s.name) last[1]++;
      else out.push([s.name, 1]);
    }
    return out;
  }

  async stop(): Promise<void> {
    this.#child.kill('SIGTERM');
    await this.#exited;
  }
}
