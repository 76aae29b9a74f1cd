/** What the benches read about processes and samples: CPU seconds from /proc, and medians. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** User + system CPU seconds of a process so far. */
export function cpuSeconds(pid: number): number {
  const { user, system } = cpuSplit(pid);
  return user + system;
}

/** User and system CPU seconds of a process so far, apart. */
export function cpuSplit(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { user: Number(fields[11]) / TICKS, system: Number(fields[12]) / TICKS };
}

/**
 * User + system CPU seconds of a process and of the children it has waited
 * for: a daemon's finished per-connection children (sshd), or a shell's
 * finished command with everything that command waited for (scp and its ssh).
 */
export function cpuSecondsWithChildren(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICKS;
}

/** The same figure from a /proc/PID/stat text read by the process itself (a shell, just before it exits). */
export function cpuSecondsWithChildrenOf(stat: string): number {
  const fields = stat.split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICKS;
}

/** A process's read and write system calls so far (/proc/PID/io), with the bytes they moved. */
export function ioCalls(pid: number | 'self'): { reads: number; writes: number; readBytes: number; writtenBytes: number } {
  const io = Object.fromEntries(
    readFileSync(`/proc/${pid}/io`, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(': ') as [string, string]),
  );
  return { reads: Number(io.syscr), writes: Number(io.syscw), readBytes: Number(io.rchar), writtenBytes: Number(io.wchar) };
}

/** What a process's system calls did between two ioCalls readings, as a log line. */
export function ioCallsSince(now: ReturnType<typeof ioCalls>, before: ReturnType<typeof ioCalls>): string {
  const mb = (bytes: number) => (bytes / 1e6).toFixed(0);
  return `${now.reads - before.reads} reads (${mb(now.readBytes - before.readBytes)} MB), ${now.writes - before.writes} writes (${mb(now.writtenBytes - before.writtenBytes)} MB)`;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
