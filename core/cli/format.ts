/**
 * Human output of the control commands; `--json` bypasses all of this.
 */
import { formatBytes } from '../byte-size.js';
import type { GroupSendResult, HistoryEntry, LibraryItem, Peer, ScheduleState, ScreenState, SendResult } from '../types.js';

function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

export function formatPeers(peers: Array<Pick<Peer, 'id' | 'name' | 'address' | 'port'> & { tags?: readonly string[] }>): string {
  if (peers.length === 0) return 'no peers known (is the coordinator reachable? see: nvid status)';
  return table([['NAME', 'ID', 'ADDRESS', 'TAGS'], ...peers.map((p) => [p.name, p.id.slice(0, 16), `${p.address}:${p.port}`, (p.tags ?? []).join(',') || '-'])]);
}

export function formatHistory(entries: HistoryEntry[]): string {
  if (entries.length === 0) return 'history is empty';
  return entries
    .map((e) => {
      const { time, kind, ...rest } = e;
      const detail = Object.entries(rest)
        .filter(([, v]) => v !== undefined && typeof v !== 'object')
        .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`)
        .join(' ');
      return `${time}  ${kind.padEnd(12)}  ${detail}`;
    })
    .join('\n');
}

export function formatStatus(status: Record<string, unknown>): string {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(status)) {
    if (key === 'plugins' && Array.isArray(value)) lines.push(`plugins: ${value.map((p) => (p as { name: string }).name).join(', ')}`);
    else if (key === 'transfers' && Array.isArray(value)) {
      lines.push(`transfers: ${value.length === 0 ? 'none' : ''}`);
      for (const t of value as Array<{ direction: string; peerName: string; bytes: number; total: number }>) {
        lines.push(`  ${t.direction} ${t.direction === 'send' ? 'to' : 'from'} ${t.peerName}: ${formatBytes(t.bytes)} of ${formatBytes(t.total)} (${t.total ? Math.floor((100 * t.bytes) / t.total) : 100}%)`);
      }
    } else lines.push(`${key}: ${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}`);
  }
  return lines.join('\n');
}

/** A group send: one line per recipient, then the count. */
export function formatGroupSent(result: GroupSendResult): string {
  const lines = result.results.map((r) =>
    r.outcome === 'sent'
      ? `delivered to ${r.to.name} (${r.seconds.toFixed(2)} s, stored as ${r.storedAs})`
      : `not delivered to ${r.to.name}: ${r.error.message} [${r.error.code}]`,
  );
  lines.push(`${result.file}: delivered to ${result.delivered} of ${result.results.length} peer(s) named by ${result.targets} (${formatBytes(result.size)} in ${result.seconds.toFixed(2)} s)`);
  return lines.join('\n');
}

export function formatSent(result: SendResult): string {
  return `delivered ${result.file} to ${result.to.name} (${formatBytes(result.size)} in ${result.seconds.toFixed(2)} s, stored as ${result.receipt.storedAs}, sha256 ${result.sha256.slice(0, 16)}…)`;
}

export function formatScreen(state: ScreenState): string {
  const showing = state.showing === null ? 'nothing yet' : state.showing === 'idle' ? 'the idle screen' : `${state.showing.name} (${state.showing.kind})`;
  const lines = [`showing: ${showing}`, `policy: ${state.policy}`];
  lines.push(state.queue.length ? `${state.policy === 'loop' ? 'up next' : 'waiting'}: ${state.queue.map((i) => i.name).join(', ')}` : 'nothing waiting');
  return lines.join('\n');
}

/** A schedule as `nvid schedule show` prints it: where it came from, what plays, then the document itself. */
export function formatSchedule(state: ScheduleState): string {
  const from =
    state.source === 'set'
      ? `set${state.setBy ? ` by ${state.setBy.name}` : ' on this node'}${state.setAt ? ` at ${state.setAt}` : ''}, kept in ${state.file ?? 'the state folder'} (it wins over the config)`
      : state.source === 'config'
        ? 'the config (display options playlists and schedule)'
        : 'none: the screen follows its policy';
  const lines = [`schedule: ${from}`];
  if (state.playing) lines.push(`playing: ${state.playing.playlist ?? '(nothing)'}${state.playing.nextChange ? `, until ${state.playing.nextChange}` : ''}`);
  if (state.signage) lines.push(JSON.stringify(state.signage, null, 2));
  return lines.join('\n');
}

export function formatLibrary(items: readonly LibraryItem[]): string {
  if (items.length === 0) return 'the library is empty';
  return table([['NAME', 'SIZE', 'ARRIVED'], ...items.map((i) => [i.name, formatBytes(i.size), new Date(i.modified).toISOString()])]);
}
