/**
 * A private sshd on 127.0.0.1 for the scp baseline: its own host key, one
 * client key, nothing of the machine's ssh setup touched.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';

export interface Sshd {
  readonly port: number;
  /** The listening sshd: each connection's sshd is its child, reaped (and its CPU counted) when it ends. */
  readonly pid: number;
  readonly user: string;
  /** Options for ssh/scp: port, key, no host key prompts. */
  readonly clientOptions: string[];
  stop(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A private sshd's config: keys only (those in `dir`), no PAM, the AES-GCM ciphers scp uses by default. */
export function sshdConfig(o: { port: number; address: string; dir: string; pidFile: string }): string {
  return (
    [
      `Port ${o.port}`,
      `ListenAddress ${o.address}`,
      `HostKey ${join(o.dir, 'host')}`,
      `AuthorizedKeysFile ${join(o.dir, 'authorized_keys')}`,
      `PidFile ${o.pidFile}`,
      'StrictModes no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'Ciphers aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com',
      'Subsystem sftp internal-sftp',
    ].join('\n') + '\n'
  );
}

export async function startSshd(dir: string): Promise<Sshd> {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: apt-get install openssh-server`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // sshd insists on its privilege separation folder even when it never drops privileges.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  for (const key of ['host', 'client']) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, key)]);
  copyFileSync(join(dir, 'client.pub'), join(dir, 'authorized_keys'));
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(config, sshdConfig({ port, address: '127.0.0.1', dir, pidFile: join(dir, 'sshd.pid') }));
  const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`sshd did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    pid: child.pid!,
    user: userInfo().username,
    clientOptions: ['-P', String(port), '-i', join(dir, 'client'), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR'],
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    },
  };
}
