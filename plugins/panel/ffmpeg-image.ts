/**
 * Runs ffmpeg to turn one image or video into one scaled picture: a library
 * thumbnail (JPEG) or the screen shot at the size the page asked for (PNG).
 */
import { execFile } from 'node:child_process';
import { resolveBinary } from '../../core/media-tools/binaries.js';

/** How long one picture may take before ffmpeg is stopped (a huge or broken file must not hang a request). */
const FFMPEG_TIMEOUT_MS = 20_000;

let ffmpegPath: Promise<string> | undefined;

/** The ffmpeg binary, looked up once. */
export function ffmpeg(): Promise<string> {
  ffmpegPath ??= resolveBinary('ffmpeg', undefined, 'ffmpeg (on PATH)').then((b) => b.path, (err: unknown) => {
    ffmpegPath = undefined;
    throw err;
  });
  return ffmpegPath;
}

/**
 * Writes the first frame of `input`, `width` pixels wide (height to scale, even), to `output`;
 * the output's extension picks the format.
 */
export async function scaledFrame(input: string, output: string, width: number): Promise<void> {
  const binary = await ffmpeg();
  await new Promise<void>((resolve, reject) => {
    execFile(
      binary,
      ['-v', 'error', '-nostdin', '-y', '-i', input, '-frames:v', '1', '-vf', `scale=${width}:-2`, '-q:v', '4', output],
      { timeout: FFMPEG_TIMEOUT_MS, maxBuffer: 1024 * 1024 },
      (err, _stdout, stderr) => (err ? reject(new Error(`ffmpeg could not make a picture of ${input}: ${stderr.trim() || err.message}`)) : resolve()),
    );
  });
}
