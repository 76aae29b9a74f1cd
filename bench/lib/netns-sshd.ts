/**
 * Private sshds inside a NetnsFleet's receiver namespaces, for an scp
 * baseline over the same shaped links nvid uses: one host key and one client
 * key for all (made in `dir`), each sshd listening on its namespace's address,
 * port 22, nothing of the machine's ssh setup touched.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../harness/nvid.js';
import type { NetnsFleet } from '../../test/helpers/netns-fleet.js';
import { sshdConfig } from './sshd.js';

export const SSHD = '/usr/sbin/sshd';

export interface NetnsSshds {
  readonly user: string;
  /** Options for scp (port 22, the client key, no host key prompts, one fast cipher). */
  readonly scpOptions: string[];
  stop(): void;
}

/** Starts an sshd in each of `names` (fleet members); resolves once each says it listens. */
export async function startSshdsIn(fleet: NetnsFleet, names: readonly string[], dir: string): Promise<NetnsSshds> {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: apt-get install openssh-server`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // sshd insists on its privilege separation folder even when it never drops privileges.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  for (const key of ['host', 'client']) if (!existsSync(join(dir, key))) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, key)]);
  copyFileSync(join(dir, 'client.pub'), join(dir, 'authorized_keys'));
  const children: ChildProcess[] = [];
  for (const name of names) {
    const address = fleet.member(name).address;
    const config = join(dir, `sshd_config.${name}`);
    writeFileSync(config, sshdConfig({ port: 22, address, dir, pidFile: join(dir, `sshd.${name}.pid`) }));
    const child = fleet.spawnIn(name, SSHD, ['-D', '-e', '-f', config]);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(() => {
      if (child.exitCode !== null) throw new Error(`sshd in ${name} exited: ${stderr}`);
      return stderr.includes('Server listening');
    }, `sshd in ${name}`, 10_000, 50);
    children.push(child);
  }
  return {
    user: userInfo().username,
    scpOptions: ['-q', '-c', 'aes128-gcm@openssh.com', '-P', '22', '-i', join(dir, 'client'), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR'],
    stop() {
      for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}
