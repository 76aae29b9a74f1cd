/**
 * The names in use, by the ID holding each, and where the search for the
 * lowest free `name-N` may start. A fleet whose screens all ask for the same
 * name (`screen`) would otherwise cost each join a walk past every taken
 * suffix: N²/2 lookups in a burst. Shared by the in-memory registry and the
 * NATS directory's view.
 */
export const MAX_NAME_LENGTH = 64;

/** `base-n`, with `base` cut short so the whole stays within MAX_NAME_LENGTH. */
export function withSuffix(base: string, n: number): string {
  const suffix = `-${n}`;
  return base.slice(0, MAX_NAME_LENGTH - suffix.length) + suffix;
}

export class NameIndex {
  private readonly idByName = new Map<string, string>();
  /** Per requested name, a suffix below which every `name-N` is held. */
  private readonly freeSuffixFrom = new Map<string, number>();

  get(name: string): string | undefined {
    return this.idByName.get(name);
  }

  set(name: string, id: string): void {
    this.idByName.set(name, id);
  }

  /** A name given up: the search for the name it may have been made from starts low enough to find it again. */
  delete(name: string): void {
    this.idByName.delete(name);
    const match = /^(.*)-(\d+)$/.exec(name);
    if (!match) return;
    // A long name lost its end to the suffix: which requested name it came from is unknown.
    if (name.length === MAX_NAME_LENGTH) return this.freeSuffixFrom.clear();
    const from = this.freeSuffixFrom.get(match[1]!);
    const n = Number(match[2]);
    if (from !== undefined && n < from) this.freeSuffixFrom.set(match[1]!, n);
  }

  /** The first suffix worth trying for `base` (every lower one is held). */
  firstSuffix(base: string): number {
    return this.freeSuffixFrom.get(base) ?? 2;
  }

  /** `base-n` was the first free suffix from firstSuffix on, and is now held. */
  tookSuffix(base: string, n: number): void {
    this.freeSuffixFrom.set(base, n + 1);
  }
}
