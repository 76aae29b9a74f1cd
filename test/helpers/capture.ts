/**
 * Records every byte that crosses loopback on given TCP ports, with tcpdump,
 * so a test can look for plaintext on the wire. Needs root (or CAP_NET_RAW).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { sleep } from './nvid.js';

export interface Capture {
  /** Stops tcpdump and returns the whole pcap file (headers included: we only search it). */
  stop(): Promise<Buffer>;
}

export function canCapture(): boolean {
  return process.getuid?.() === 0;
}

export async function captureLoopback(file: string, ports: number[]): Promise<Capture> {
  const filter = `tcp and (${ports.map((p) => `port ${p}`).join(' or ')})`;
  // -U writes each packet at once, -s 0 keeps whole packets.
  const child = spawn('tcpdump', ['-i', 'lo', '-U', '-s', '0', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!stderr.includes('listening on')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`tcpdump did not start: ${stderr}`);
    await sleep(50);
  }
  return {
    async stop() {
      await sleep(300);
      child.kill('SIGINT');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      return readFileSync(file);
    },
  };
}
