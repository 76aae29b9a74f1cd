/** The codes the display plugin adds to the core's (docs/errors.md lists them with the rest). */
export const DISPLAY_ERROR_CODES = {
  NVID_ERR_PLAYER: 'the media player crashed or hung',
  NVID_ERR_DISPLAY_UNAVAILABLE: 'no X display can be opened',
  NVID_ERR_SCHEDULE_INVALID: 'the playlists or schedule in the display options are invalid; the schedule is refused whole and every problem is listed with its key path',
  NVID_ERR_SCHEDULE_STORE: 'the schedule set with nvid schedule set, kept in the state folder (display-schedule.json), cannot be read or written: the node refuses to start with a broken one (naming the file), and a set that cannot be kept changes nothing',
  NVID_ERR_POWER_INVALID: 'the power hours in the display options are invalid; every problem is listed with its key path',
  NVID_ERR_POWER_UNAVAILABLE: 'the display option power is set but the screen cannot be put to sleep: xset (x11-xserver-utils) is missing, or the X server has no DPMS extension',
} as const;
