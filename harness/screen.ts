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
  /** Milliseconds from the sampler's start to the moment the frame was grabbed (the grabber's clock). */
  readonly t: number;
  /** Palette name, `?` or `mixed`. */
  readonly name: string;
  readonly black: boolean;
  readonly frame: Buffer;
}

/** A showinfo line: the frame's number and its presentation time in the input's time base. */
const SHOWINFO_FRAME = /\] n: *(\d+) pts: *(-?\d+) /;
/** x11grab's time base: microseconds. */
const SHOWINFO_TIME_BASE = /config in time_base: 1\/(\d+)/;

/**
 * Grabs the screen continuously (one ffmpeg x11grab process) at `fps` and
 * keeps every frame's verdict. Frames are kept only as long as `keepFrames` says.
 *
 * Each sample is timed by when ffmpeg grabbed it, not when its bytes got here:
 * x11grab stamps frames with the wall clock, `-copyts` keeps that stamp and
 * showinfo prints it, one line per frame, in order (no frame is dropped or
 * repeated: `-fps_mode passthrough`). Timed on arrival, a frame was late by
 * however long this process took to read the pipe, tens of milliseconds under
 * load, which made items look longer or shorter on screen than they were.
 */
export class ScreenSampler {
  readonly samples: Sample[] = [];
  readonly #child: ChildProcess;
  readonly #frameBytes: number;
  /** Date.now() when sampling began; `Sample.t` counts from here. */
  readonly startedAt = Date.now();
  readonly #exited: Promise<void>;
  readonly #keepFrames: boolean;
  /** The frame being filled from the pipe. */
  #frame: Buffer;
  #filled = 0;
  /** Grab times (ms since startedAt) whose frames have not come through the pipe yet. */
  #times: number[] = [];
  /** Frames (judged) waiting for their grab time. */
  #untimed: Array<Omit<Sample, 't'>> = [];
  #ticksPerMs = 1000;
  #stderrTail = '';
  /** ffmpeg's last other log lines, for the error when no frame comes. */
  #log: string[] = [];

  constructor(display: string, width: number, height: number, fps = 20, keepFrames = false) {
    this.#frameBytes = width * height * 3;
    this.#frame = Buffer.allocUnsafe(this.#frameBytes);
    this.#keepFrames = keepFrames;
    const args = ['-hide_banner', '-nostats', '-loglevel', 'info', '-f', 'x11grab', '-draw_mouse', '0', '-framerate', String(fps), '-video_size', `${width}x${height}`, '-i', display];
    args.push('-copyts', '-vf', 'showinfo', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
    this.#child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#exited = new Promise((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.stdout!.on('data', (chunk: Buffer) => this.#takeBytes(chunk));
    this.#child.stderr!.setEncoding('utf8');
    this.#child.stderr!.on('data', (text: string) => this.#takeLog(text));
  }

  #takeBytes(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const n = Math.min(chunk.length - at, this.#frameBytes - this.#filled);
      chunk.copy(this.#frame, this.#filled, at, at + n);
      this.#filled += n;
      at += n;
      if (this.#filled < this.#frameBytes) return;
      const d = dominantColour(this.#frame);
      const name = d.share < 0.6 ? 'mixed' : (nameColour(d.colour) ?? '?');
      this.#untimed.push({ name, black: isAllBlack(this.#frame), frame: this.#keepFrames ? Buffer.from(this.#frame) : Buffer.alloc(0) });
      this.#filled = 0;
      this.#pair();
    }
  }

  #takeLog(text: string): void {
    const lines = (this.#stderrTail + text).split('\n');
    this.#stderrTail = lines.pop()!;
    for (const line of lines) {
      const base = SHOWINFO_TIME_BASE.exec(line);
      if (base) this.#ticksPerMs = Number(base[1]) / 1000;
      const frame = SHOWINFO_FRAME.exec(line);
      if (frame) this.#times.push(Number(frame[2]) / this.#ticksPerMs - this.startedAt);
      else if (!line.includes('showinfo')) this.#log = [...this.#log.slice(-9), line];
    }
    this.#pair();
  }

  /** Frames and their grab times, matched in order as both arrive. */
  #pair(): void {
    while (this.#untimed.length > 0 && this.#times.length > 0) {
      this.samples.push({ t: Math.round(this.#times.shift()!), ...this.#untimed.shift()! });
    }
  }

  /** Resolves once the first frame arrived. */
  async ready(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.samples.length === 0) {
      if (Date.now() > deadline) {
        const why = this.#untimed.length > 0 ? `${this.#untimed.length} frames came but ffmpeg printed no grab times (showinfo)` : 'no frame came';
        throw new Error(`the screen sampler produced no frame: ${why}; ffmpeg said: ${this.#log.join(' | ') || 'nothing'}`);
      }
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
