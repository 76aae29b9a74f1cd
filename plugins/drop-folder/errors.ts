/** The codes the drop-folder plugin adds to the core's (docs/errors.md lists them with the rest). */
export const DROP_FOLDER_ERROR_CODES = {
  NVID_ERR_DROP_TARGET: 'a dropped file has no target peer (no subfolder and no configured target)',
} as const;
