/**
 * The next item's player, started ahead of its turn. A player takes a moment
 * to start (0.5-0.9 s here); started only when the current item's time is up,
 * every item stayed that much longer than it was told to (stills of 1.5 s
 * showed for about 2.1 s, a 2 s video for 2.6 s). Started ahead, off screen,
 * it only has to be moved in when the time comes. A video prepared ahead is
 * frozen on its first frame (see FfplayPlayer.pause) so it does not play
 * unseen. If what comes next changes meanwhile (a push, a skip, a switch of
 * the schedule), the prepared player is dropped and the new item starts its
 * own, as before.
 */
import type { FfplayPlayer } from './player.js';

interface Prepared<Item> {
  readonly item: Item;
  readonly player: FfplayPlayer;
  /** True once it is visible off screen (and frozen, if a video); false if it failed to come up. */
  readonly ready: Promise<boolean>;
}

export class NextPlayer<Item> {
  #prepared: Prepared<Item> | undefined;

  /** Whether a player is being prepared or waits ready. */
  get busy(): boolean {
    return this.#prepared !== undefined;
  }

  /** Holds `player` for `item`; `comeUp` resolves once it is visible. A video is frozen once visible. */
  prepare(item: Item, player: FfplayPlayer, comeUp: () => Promise<void>, freeze: boolean): void {
    this.discard();
    const ready = comeUp().then(
      () => {
        if (freeze) player.pause();
        return true;
      },
      () => false,
    );
    this.#prepared = { item, player, ready };
  }

  /** The player prepared for exactly this item, ready to move in; undefined (and dropped) otherwise. */
  async take(item: Item): Promise<FfplayPlayer | undefined> {
    const prepared = this.#prepared;
    if (!prepared) return undefined;
    this.#prepared = undefined;
    if (prepared.item !== item || !(await prepared.ready) || !prepared.player.running) {
      void prepared.player.stop();
      return undefined;
    }
    return prepared.player;
  }

  discard(): void {
    const prepared = this.#prepared;
    this.#prepared = undefined;
    if (prepared) void prepared.player.stop();
  }
}
