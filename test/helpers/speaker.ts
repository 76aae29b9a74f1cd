/**
 * Hears what a player played. SDL's "disk" audio driver (SDL_AUDIODRIVER=disk)
 * writes the samples a player sends to its audio device into a file
 * (SDL_DISKAUDIOFILE) instead of a sound card, so a test can listen on a
 * machine that has none.
 */
import { existsSync, readFileSync } from 'node:fs';

/** The environment that sends a player's sound into `file`. */
export function speakerInto(file: string): NodeJS.ProcessEnv {
  return { SDL_AUDIODRIVER: 'disk', SDL_DISKAUDIOFILE: file };
}

/** What was heard: how long the device played, how much of it was loud, and the pitch of the loud part. */
export interface Heard {
  readonly seconds: number;
  readonly loudSeconds: number;
  /** From the zero crossings of the loud windows; 0 when nothing was loud. */
  readonly pitchHz: number;
}

/** 0.1 s windows at 44.1 kHz. */
const WINDOW = 4410;
/** Root mean square above which a window counts as sound (full scale is 32767; lavfi's sine is about 2,900). */
const LOUD_RMS = 500;

/**
 * Listens to a disk-audio file, or returns undefined when no player ever
 * opened the device. ffplay asks SDL for signed 16-bit samples at the stream's
 * rate and channel count: the clips here are mono, 44.1 kHz.
 */
export function listen(file: string, sampleRate = 44_100): Heard | undefined {
  if (!existsSync(file)) return undefined;
  const bytes = readFileSync(file);
  const samples = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length >> 1);
  let loudWindows = 0;
  let crossings = 0;
  for (let start = 0; start + WINDOW <= samples.length; start += WINDOW) {
    let energy = 0;
    let windowCrossings = 0;
    for (let i = start; i < start + WINDOW; i++) {
      energy += samples[i]! * samples[i]!;
      if (i > start && samples[i - 1]! < 0 !== samples[i]! < 0) windowCrossings++;
    }
    if (Math.sqrt(energy / WINDOW) < LOUD_RMS) continue;
    loudWindows++;
    crossings += windowCrossings;
  }
  const loudSeconds = (loudWindows * WINDOW) / sampleRate;
  return { seconds: samples.length / sampleRate, loudSeconds, pitchHz: loudSeconds > 0 ? crossings / 2 / loudSeconds : 0 };
}
