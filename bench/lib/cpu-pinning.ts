/**
 * Pins processes (all their threads) to CPUs with util-linux's `taskset`, so
 * that a bench on one machine can give a sending and a receiving node a core
 * each, as two machines would have, instead of letting one side's extra work
 * slow the other down.
 */
import { execFileSync } from 'node:child_process';
import { cpus as onlineCpuList } from 'node:os';

const onlineCpus = () => onlineCpuList().length;

/** Whether processes can be given cores of their own here: two cores or more, and `taskset`. */
export function canPin(): boolean {
  if (onlineCpus() < 2) return false;
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs `pid`'s threads, and the processes it starts from now on, on `cpus` only ('all': anywhere again). */
export function pin(pid: number, cpus: readonly number[] | 'all'): void {
  const list = cpus === 'all' ? `0-${onlineCpus() - 1}` : cpus.join(',');
  execFileSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' });
}
