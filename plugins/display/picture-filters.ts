/**
 * The ffplay `-vf` chain that puts a picture on a screen the way it is meant
 * to be seen: first the picture's own EXIF orientation (upright), then the
 * screen's mounting (`rotation`), then how it fills the screen (`fit`). One
 * chain for stills, videos, the idle image and the player waiting for the next
 * photo, so they cannot disagree.
 */
import { NvidError } from '../../core/errors.js';
import type { Orientation } from '../../core/types.js';
import type { ScreenSize } from './x11.js';

/**
 * How far the physical screen is turned clockwise from the position it was
 * built for, as its viewer sees it: 90 is a landscape screen hung as a
 * portrait with its built-in top edge on the viewer's right.
 */
export type ScreenRotation = 0 | 90 | 180 | 270;

/**
 * How a picture whose shape differs from the screen's fills it: `contain`
 * shows all of it with black bars, `cover` fills the screen and crops what
 * overflows, `stretch` fills it and ignores the picture's proportions.
 */
export type ScreenFit = 'contain' | 'cover' | 'stretch';

/** How one screen is mounted and filled; the same for every item it shows. */
export interface ScreenView {
  readonly rotation: ScreenRotation;
  readonly fit: ScreenFit;
}

/** The filter that stands a picture of each EXIF orientation upright. */
const UPRIGHT: Readonly<Record<Exclude<Orientation, 1>, string>> = {
  2: 'hflip',
  3: 'hflip,vflip',
  4: 'vflip',
  5: 'transpose=cclock_flip',
  6: 'transpose=clock',
  7: 'transpose=clock_flip',
  8: 'transpose=cclock',
};

/**
 * The turn, in the frame buffer, that undoes a screen's mounting: a screen
 * turned clockwise shows a picture turned the same amount counter-clockwise,
 * so it stands upright to the viewer. (Its built-in left edge is now on top,
 * so the picture's top must be drawn along the frame buffer's left edge.)
 */
const UNDO_MOUNTING: Readonly<Record<Exclude<ScreenRotation, 0>, string>> = {
  90: 'transpose=cclock',
  180: 'hflip,vflip',
  270: 'transpose=clock',
};

/**
 * The fit, as filters producing exactly the screen's size. `contain` needs
 * none: ffplay itself scales a picture into its full-screen window keeping
 * its proportions, with black bars (what nvid always did). For the other two
 * the picture must already be the screen's size when it reaches ffplay, with
 * square pixels (`setsar=1`: `scale` otherwise records the stretch in the
 * pixel aspect ratio and ffplay would undo it with bars).
 */
function fitFilters(fit: ScreenFit, screen: ScreenSize): string[] {
  const { width: w, height: h } = screen;
  switch (fit) {
    case 'contain':
      return [];
    case 'cover':
      // `increase` makes both sides at least the screen's; the centred crop cuts the overflow.
      return [`scale=${w}:${h}:force_original_aspect_ratio=increase`, `crop=${w}:${h}`, 'setsar=1'];
    case 'stretch':
      return [`scale=${w}:${h}`, 'setsar=1'];
  }
}

/**
 * The `-vf` chain for a picture with EXIF `orientation` on a screen of `size`
 * mounted and filled as `view` says, or undefined when the picture goes to
 * ffplay untouched (upright, screen not turned, `contain`).
 *
 * @throws NvidError NVID_ERR_PLAYER for `cover` or `stretch` without a screen size (nothing to fill)
 */
export function pictureFilters(orientation: Orientation | undefined, view: ScreenView | undefined, screen: ScreenSize | undefined): string | undefined {
  const chain: string[] = [];
  if (orientation !== undefined && orientation !== 1) chain.push(UPRIGHT[orientation]);
  if (view && view.rotation !== 0) chain.push(UNDO_MOUNTING[view.rotation]);
  if (view && view.fit !== 'contain') {
    if (!screen) throw new NvidError('NVID_ERR_PLAYER', `fit "${view.fit}" needs the screen's size`);
    chain.push(...fitFilters(view.fit, screen));
  }
  return chain.length > 0 ? chain.join(',') : undefined;
}
