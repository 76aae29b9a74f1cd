/**
 * A small picture with four coloured corners and where each EXIF orientation
 * must put them: shared by the upright test and the rotation test, which
 * starts from the same upright picture.
 */

import type { Orientation } from '../../../core/types.js';

/** Stored corners, 64x48: the first row runs red to green, the first column red to blue; the last corner is yellow. */
export const STORED = 'color=c=yellow:s=64x48,drawbox=x=0:y=0:w=32:h=24:color=red:t=fill,drawbox=x=32:y=0:w=32:h=24:color=lime:t=fill,drawbox=x=0:y=24:w=32:h=24:color=blue:t=fill';

export type Corner = 'top-left' | 'top-right' | 'bottom-right' | 'bottom-left';

/**
 * Where the stored red, green and blue corners must end up on screen, from the
 * standard's words for each value ("the 0th row is the visual right-hand side,
 * the 0th column is the visual top" for 6, and so on).
 */
export const UPRIGHT_CORNERS: Readonly<Record<Orientation, { readonly red: Corner; readonly green: Corner; readonly blue: Corner }>> = {
  1: { red: 'top-left', green: 'top-right', blue: 'bottom-left' },
  2: { red: 'top-right', green: 'top-left', blue: 'bottom-right' },
  3: { red: 'bottom-right', green: 'bottom-left', blue: 'top-right' },
  4: { red: 'bottom-left', green: 'bottom-right', blue: 'top-left' },
  5: { red: 'top-left', green: 'bottom-left', blue: 'top-right' },
  6: { red: 'top-right', green: 'bottom-right', blue: 'top-left' },
  7: { red: 'bottom-right', green: 'top-right', blue: 'bottom-left' },
  8: { red: 'bottom-left', green: 'top-left', blue: 'bottom-right' },
};

/** The colour name of each corner of an rgb24 frame. */
export function corners(frame: Buffer, width: number, height: number): Record<Corner, string> {
  const at = (x: number, y: number) => {
    const i = (y * width + x) * 3;
    const [r, g, b] = [frame[i]! > 127, frame[i + 1]! > 127, frame[i + 2]! > 127];
    return r && g && !b ? 'yellow' : r ? 'red' : g ? 'green' : b ? 'blue' : 'black';
  };
  const inset = 4;
  return {
    'top-left': at(inset, inset),
    'top-right': at(width - 1 - inset, inset),
    'bottom-left': at(inset, height - 1 - inset),
    'bottom-right': at(width - 1 - inset, height - 1 - inset),
  };
}
