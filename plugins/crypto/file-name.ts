/**
 * File names arrive from the wire inside a signed header, but a signature only
 * says who sent a name, not that it is safe. Everything here runs before a
 * name gets anywhere near the disk.
 */
import { NvidError } from '../../core/errors.js';

/** Longest sanitised name, in UTF-8 bytes; well under every common file system's 255. */
export const MAX_FILE_NAME_BYTES = 200;
/** An extension longer than this is not kept when a long name is shortened. */
const MAX_KEPT_EXTENSION_BYTES = 16;

// C0 and C1 controls, DEL, and the Unicode bidi overrides that make a name display differently than it is.
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
const PATH_SEPARATORS = /[/\\]/g;
// Lone surrogates cannot be encoded as UTF-8 and would turn into U+FFFD somewhere less obvious.
const LONE_SURROGATES = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Makes a name from the wire safe to use as the last component of a path:
 * no path separators, no control or bidi characters, no `..`, no leading dot
 * (no hidden files), no leading or trailing spaces, at most
 * {@link MAX_FILE_NAME_BYTES} bytes (keeping the extension when shortened).
 * Never returns an empty string: a name with nothing usable left is rejected.
 *
 * @throws NvidError NVID_ERR_BAD_FILE_NAME when the input is not a string or nothing usable remains.
 */
export function sanitizeFileName(raw: unknown): string {
  if (typeof raw !== 'string') throw new NvidError('NVID_ERR_BAD_FILE_NAME', `file name must be a string, got ${typeof raw}`);
  let name = raw
    .replace(LONE_SURROGATES, '_')
    .normalize('NFC')
    .replace(PATH_SEPARATORS, '_')
    .replace(UNSAFE_CHARS, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^[\s.]+/u, '')
    .replace(/[\s.]+$/u, '');
  name = shortenToBytes(name, MAX_FILE_NAME_BYTES).replace(/[\s.]+$/u, '');
  if (name.length === 0) {
    throw new NvidError('NVID_ERR_BAD_FILE_NAME', `file name ${JSON.stringify(raw.slice(0, 80))} has nothing usable left after sanitising`);
  }
  return name;
}

/** Cuts `name` to at most `maxBytes` UTF-8 bytes on a code point boundary, keeping a short extension. */
function shortenToBytes(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot) : '';
  const keep = Buffer.byteLength(extension) <= MAX_KEPT_EXTENSION_BYTES ? extension : '';
  return cutToBytes(keep ? name.slice(0, dot) : name, maxBytes - Buffer.byteLength(keep)) + keep;
}

function cutToBytes(text: string, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  for (const codePoint of text) {
    const size = Buffer.byteLength(codePoint);
    if (bytes + size > maxBytes) break;
    out += codePoint;
    bytes += size;
  }
  return out;
}
