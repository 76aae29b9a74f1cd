/**
 * The name an upload is stored under. The client's file name is a hint, never
 * a path: only its last segment survives (either kind of slash), without
 * control characters, at most 120 characters, and it must end in an extension
 * of the media allow-list, which is kept as it was written (lower-cased).
 */
import { NvidError } from '../../core/errors.js';

/** Extensions the panel takes; the media plugin decides later whether the content really is one. */
export const MEDIA_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.gif', '.webp', '.bmp', '.tif', '.tiff', '.mp4', '.m4v', '.mov', '.mkv', '.webm', '.avi']);

export const MAX_NAME_LENGTH = 120;

/**
 * A file name safe to create inside an upload folder.
 * @throws NvidError NVID_ERR_PANEL_UPLOAD when no allowed media extension is left
 */
export function safeUploadName(clientName: string): string {
  // The last segment of a Windows or POSIX path ("C:\\photos\\a.jpg", "../../a.jpg").
  const lastSegment = clientName.split(/[/\\]/).pop() ?? '';
  // Control characters (C0, DEL, C1) and characters some file systems refuse.
  const cleaned = lastSegment.replace(/[\u0000-\u001f\u007f-\u009f:*?"<>|]/g, '').trim();
  const dot = cleaned.lastIndexOf('.');
  const extension = dot >= 0 ? cleaned.slice(dot).toLowerCase() : '';
  if (!MEDIA_EXTENSIONS.has(extension)) {
    throw new NvidError('NVID_ERR_PANEL_UPLOAD', `"${lastSegment.slice(0, MAX_NAME_LENGTH)}" is not an image or video name; allowed: ${[...MEDIA_EXTENSIONS].join(' ')}`);
  }
  // Leading dots would make a hidden file ("..jpg", ".png"); the stem gets what room the extension leaves.
  const stem = cleaned.slice(0, dot).replace(/^\.+/, '').slice(0, MAX_NAME_LENGTH - extension.length);
  return `${stem || 'upload'}${extension}`;
}
