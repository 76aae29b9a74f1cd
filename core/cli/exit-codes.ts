/**
 * Exit codes that mean something to scripts. Documented in README.md.
 */
import type { NvidErrorCode } from '../errors.js';

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  notRunning: 3,
  notAvailable: 4,
  refused: 5,
  unknownPeer: 6,
  fileNotFound: 7,
  receiverGone: 8,
  /** A send to several peers reached some of them but not all (the JSON result line lists each). */
  partial: 9,
  /** As a shell reports a command stopped by Ctrl-C. */
  cancelled: 130,
} as const;

export function exitCodeFor(code: NvidErrorCode | string | undefined): number {
  switch (code) {
    case 'NVID_ERR_USAGE':
    case 'NVID_ERR_CONFIG_READ':
    case 'NVID_ERR_CONFIG_INVALID':
    case 'NVID_ERR_PLUGIN_NOT_FOUND':
    case 'NVID_ERR_PLUGIN_SHAPE':
    case 'NVID_ERR_PLUGIN_OPTIONS':
    case 'NVID_ERR_PLUGIN_APPLY':
    case 'NVID_ERR_PLUGIN_API':
      return EXIT.usage;
    case 'NVID_ERR_RECEIVER_GONE':
      return EXIT.receiverGone;
    case 'NVID_ERR_CANCELLED':
      return EXIT.cancelled;
    case 'NVID_ERR_NOT_RUNNING':
      return EXIT.notRunning;
    case 'NVID_ERR_NOT_AVAILABLE':
      return EXIT.notAvailable;
    case 'NVID_ERR_UNKNOWN_PEER':
    case 'NVID_ERR_AMBIGUOUS_PEER':
      return EXIT.unknownPeer;
    case 'NVID_ERR_FILE_NOT_FOUND':
      return EXIT.fileNotFound;
    case 'NVID_ERR_REFUSED':
    case 'NVID_ERR_NOT_CONTROLLER':
    case 'NVID_ERR_DELIVERY':
    case 'NVID_ERR_MEDIA_REJECTED':
    case 'NVID_ERR_PROBE_FAILED':
      return EXIT.refused;
    default:
      return EXIT.failure;
  }
}
