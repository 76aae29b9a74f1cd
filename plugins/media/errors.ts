/** The codes the media plugin adds to the core's (docs/errors.md lists them with the rest). */
export const MEDIA_ERROR_CODES = {
  NVID_ERR_PROBE_FAILED: 'ffprobe failed, timed out or printed unreadable output',
} as const;
