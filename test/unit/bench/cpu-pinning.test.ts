/**
 * The panel-upload bench gives the sending and the receiving side a core each
 * with `taskset`: a pinned process (every thread, and what it starts later)
 * runs only where it was put, and can be let free again.
 */
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { canPin, pin } from '../../../bench/lib/cpu-pinning.js';

/** The CPUs each thread of `pid` may run on, as /proc lists them. */
const allowedPerThread = (pid: number) => readdirSync(`/proc/${pid}/task`).map((tid) => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))![1]);

describe('bench: giving processes cores of their own', function () {
  before(function () {
    if (!canPin()) {
      console.log('      (skipped: this machine has one core, or no taskset)');
      this.skip();
    }
  });

  it('pins every thread of a running node to core 1, then lets it run anywhere again', async () => {
    // A Node process has several threads (V8's and libuv's) from the start.
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      pin(child.pid!, [1]);
      const pinned = allowedPerThread(child.pid!);
      assert.ok(pinned.length > 1, 'a node has more than one thread');
      assert.deepEqual(new Set(pinned), new Set(['1']));
      // taskset reads back the same for the process itself.
      assert.equal(execFileSync('taskset', ['-c', '-p', String(child.pid)], { encoding: 'utf8' }).trim().split(': ').pop(), '1');
      pin(child.pid!, 'all');
      assert.deepEqual(new Set(allowedPerThread(child.pid!)), new Set([`0-${cpus().length - 1}`]));
    } finally {
      child.kill();
    }
  });

  it('keeps what a pinned process starts afterwards on the same core (the curl and nvid send the bench runs)', async () => {
    // The shell waits for a line, then starts a process of its own that says where it may run.
    const shell = spawn('sh', ['-c', 'read _; sh -c "grep Cpus_allowed_list: /proc/self/status"'], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    shell.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const ended = new Promise((r) => shell.on('close', r));
    pin(shell.pid!, [1]);
    shell.stdin.end('go\n');
    await ended;
    assert.match(out, /Cpus_allowed_list:\s+1\n/);
  });
});
