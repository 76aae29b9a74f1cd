/**
 * Reads the EXIF orientation of a JPEG: how the picture must be turned to
 * stand upright. Phones store a portrait photo as the sensor saw it and set
 * this tag; ffplay ignores it (ffmpeg 5.1), so without it the photo shows
 * sideways. Only the tag is read, from the first bytes of the file: no
 * decoding.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { Orientation } from '../types.js';


/** Enough for the APP1 segments a camera writes first (EXIF is at most 64 KiB). */
export const ORIENTATION_HEAD_BYTES = 128 * 1024;

const ORIENTATION_TAG = 0x0112;
const SHORT = 3;
const EXIF_HEADER = Buffer.from('Exif\0\0', 'latin1');

/**
 * The orientation the JPEG whose first bytes are `head` declares, or 1 when it
 * declares none or the bytes cannot be read as one: a wrong guess only turns a
 * picture, so nothing here throws.
 */
export function jpegOrientation(head: Buffer): Orientation {
  if (head.length < 4 || head[0] !== 0xff || head[1] !== 0xd8) return 1;
  let at = 2;
  while (at + 4 <= head.length && head[at] === 0xff) {
    const marker = head[at + 1]!;
    // Fill bytes, then markers without a length; start of scan or end of image ends the header segments.
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return 1;
    const length = head.readUInt16BE(at + 2);
    if (length < 2) return 1;
    const body = head.subarray(at + 4, Math.min(head.length, at + 2 + length));
    if (marker === 0xe1 && body.subarray(0, EXIF_HEADER.length).equals(EXIF_HEADER)) return tiffOrientation(body.subarray(EXIF_HEADER.length));
    at += 2 + length;
  }
  return 1;
}

/** The orientation of the JPEG at `path`: 1 for any other file, or one that cannot be read. */
export function fileOrientation(path: string): Orientation {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(ORIENTATION_HEAD_BYTES);
    return jpegOrientation(head.subarray(0, readSync(fd, head, 0, head.length, 0)));
  } catch {
    return 1;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The orientation tag of a TIFF structure's first directory (IFD0). */
function tiffOrientation(tiff: Buffer): Orientation {
  if (tiff.length < 8) return 1;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return 1;
  const little = order === 'II';
  const u16 = (offset: number) => (little ? tiff.readUInt16LE(offset) : tiff.readUInt16BE(offset));
  const u32 = (offset: number) => (little ? tiff.readUInt32LE(offset) : tiff.readUInt32BE(offset));
  if (u16(2) !== 42) return 1;
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return 1;
  const count = u16(ifd);
  for (let entry = ifd + 2, i = 0; i < count && entry + 12 <= tiff.length; i++, entry += 12) {
    if (u16(entry) !== ORIENTATION_TAG) continue;
    if (u16(entry + 2) !== SHORT || u32(entry + 4) !== 1) return 1;
    // A SHORT value sits left-justified in the entry's 4-byte value field.
    const value = u16(entry + 8);
    return value >= 1 && value <= 8 ? (value as Orientation) : 1;
  }
  return 1;
}
