/**
 * The plain-TCP baseline: a file piped over one loopback socket to a second
 * Node process that writes it to disk. No encryption, no framing, no checks:
 * the fastest a file-to-file copy between two Node processes gets here.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { connect } from 'node:net';
import { pipeline } from 'node:stream/promises';

const RECEIVER = `
const net = require('node:net');
const fs = require('node:fs');
const [dest] = process.argv.slice(1);
const server = net.createServer((socket) => {
  const out = fs.createWriteStream(dest, { highWaterMark: 1 << 20 });
  socket.pipe(out);
  out.on('close', () => { server.close(); process.exit(0); });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

/** Copies `file` to `dest` through a receiver process; resolves once the receiver closed the file. */
export async function plainTcpCopy(file: string, dest: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', RECEIVER, dest], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('error', reject);
  });
  const done = new Promise<void>((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`receiver exited ${code}`)))));
  const socket = connect(port, '127.0.0.1');
  await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), socket);
  await done;
}
