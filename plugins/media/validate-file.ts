/**
 * The whole check of one file: stat, ffprobe, policy, and for videos a look at
 * the tail. Hook-free, so tests and other plugins (display's loop over the
 * library) can call it directly.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { NvidError } from '../../core/errors.js';
import type { MediaInfo, Orientation } from '../../core/types.js';
import { jpegOrientation, ORIENTATION_HEAD_BYTES } from '../../core/media-tools/exif-orientation.js';
import { declaredPictureSize, inspectProbeReport, type MediaPolicy } from './inspect.js';
import { judgeTail, probeFile, probeWithTail, readTail } from './probe.js';

/**
 * Returns what `path` is, or throws why it may not be shown.
 *
 * @throws NvidError NVID_ERR_MEDIA_REJECTED (the file's fault) or NVID_ERR_PROBE_FAILED (ffprobe's)
 */
export async function validateMediaFile(ffprobe: string, path: string, policy: MediaPolicy, probeTimeoutMs: number): Promise<MediaInfo> {
  let size: number;
  let jpeg: boolean;
  let orientation: Orientation = 1;
  try {
    // One open and one read for what is asked of the file itself: its size, whether it starts like a
    // JPEG, and a JPEG's orientation. Non-blocking, so a FIFO dropped where media is expected is
    // refused instead of waiting for a writer.
    const file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const st = await file.stat();
      if (!st.isFile()) throw new NvidError('NVID_ERR_MEDIA_REJECTED', 'not a regular file');
      size = st.size;
      const { buffer, bytesRead } = await file.read(Buffer.alloc(Math.min(size, ORIENTATION_HEAD_BYTES)), 0, Math.min(size, ORIENTATION_HEAD_BYTES), 0);
      const head = buffer.subarray(0, bytesRead);
      jpeg = startsLikeJpeg(head);
      if (jpeg) orientation = jpegOrientation(head);
    } finally {
      await file.close();
    }
  } catch (err) {
    if (err instanceof NvidError) throw err;
    throw new NvidError('NVID_ERR_MEDIA_REJECTED', `cannot read the file: ${(err as Error).message}`, { cause: err });
  }
  // Check the size before ffprobe reads anything of a huge file.
  if (size > policy.maxFileBytes) throw new NvidError('NVID_ERR_MEDIA_REJECTED', `file is ${size} bytes, over the limit of ${policy.maxFileBytes}`);
  // Usually one ffprobe run answers both questions. A JPEG's demuxer cannot seek to the end, so a JPEG
  // is only probed; a failed run is asked again in two, so that the error names what is wrong.
  const both = jpeg ? undefined : await probeWithTail(ffprobe, path, probeTimeoutMs);
  const { report, stderr } = both?.probe ?? (await probeFile(ffprobe, path, probeTimeoutMs));
  const info = inspectProbeReport(report, size, policy, declaredPictureSize(stderr));
  if (info.kind === 'video') judgeTail(both?.tail ?? (await readTail(ffprobe, path, probeTimeoutMs)), path, info.duration);
  return info.kind === 'image' && orientation !== 1 ? { ...info, orientation } : info;
}

/** JPEG's start-of-image marker: FF D8 FF. */
function startsLikeJpeg(head: Buffer): boolean {
  return head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
}
