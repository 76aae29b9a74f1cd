/**
 * Numbers as people read them: sizes in the same units as the CLI
 * (core/byte-size.ts), rates, time left, times of day, and node IDs in groups
 * of four so two people can compare them aloud.
 */

export function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = Number(n) || 0;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function rate(bytesPerSecond) {
  return `${bytes(Math.round(bytesPerSecond || 0))}/s`;
}

/** `42 s`, `3 min 5 s`, `1 h 2 min`. */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** A fingerprint as `ab12 cd34 ...`: groups of four hex digits. */
export function groupedId(id) {
  return String(id).match(/.{1,4}/g)?.join(' ') ?? '';
}

/** An ISO time as this browser's local date and time. */
export function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

/** The last segment of a path (history entries carry the node's paths; the page shows names). */
export function baseName(path) {
  return String(path ?? '').split(/[\\/]/).pop();
}
