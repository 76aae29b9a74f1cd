/**
 * Network namespaces for tests that must not touch the machine's real network
 * (mDNS multicast, above all): each namespace has only its loopback and the
 * veth links the test makes, so nothing sent inside can leave through the
 * machine's own interfaces. Needs root and iproute2's `ip`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

/** Whether `command` runs here (`command --version` exits 0). */
export function hasCommand(command: string, versionFlag = '--version'): boolean {
  try {
    execFileSync(command, [versionFlag], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why namespaces cannot be made here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root, and making network namespaces needs root';
  if (!hasCommand('ip', '-V')) return 'no iproute2 (`ip`) on this machine';
  return undefined;
}

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A set of namespaces and the links between them; `destroy()` removes them all (and their links). */
export class NetnsLab {
  /** Namespace names, by the short name the test uses. */
  readonly names = new Map<string, string>();
  private readonly prefix: string;
  private links = 0;

  /** `tag` makes the names unique on the machine: `nvid-<tag>-<pid>-<short>`. */
  constructor(tag: string) {
    this.prefix = `nvid-${tag}-${process.pid}`;
  }

  add(short: string): string {
    const name = `${this.prefix}-${short}`;
    ip(['netns', 'add', name]);
    this.names.set(short, name);
    ip(['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  ns(short: string): string {
    const name = this.names.get(short);
    if (!name) throw new Error(`no namespace ${short} in this lab`);
    return name;
  }

  /**
   * A veth pair from `a` to `b`, each end up with its address (`10.231.0.1/24`); returns the
   * interface names. The ends are made inside the namespaces, so none appears on the machine.
   */
  link(a: string, addressA: string, b: string, addressB: string): [string, string] {
    const n = this.links++;
    // Interface names are at most 15 characters.
    const ifA = `nv${process.pid % 100000}${n}a`;
    const ifB = `nv${process.pid % 100000}${n}b`;
    ip(['link', 'add', ifA, 'netns', this.ns(a), 'type', 'veth', 'peer', 'name', ifB, 'netns', this.ns(b)]);
    for (const [short, dev, address] of [[a, ifA, addressA], [b, ifB, addressB]] as const) {
      ip(['-n', this.ns(short), 'addr', 'add', address, 'dev', dev]);
      ip(['-n', this.ns(short), 'link', 'set', dev, 'up']);
    }
    return [ifA, ifB];
  }

  /** Runs `ip -n NS ARGS...`. */
  ip(short: string, args: string[]): void {
    ip(['-n', this.ns(short), ...args]);
  }

  /** The command prefix that runs a program inside `short`. */
  wrap(short: string): string[] {
    return ['ip', 'netns', 'exec', this.ns(short)];
  }

  /** Runs an ES module script (as text) with this Node inside `short`; its output is collected on the child. */
  script(short: string, code: string): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.ns(short), process.execPath, '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Deletes every namespace; their veth ends go with them. Never throws: it runs in after hooks. */
  destroy(): void {
    for (const name of this.names.values()) {
      try {
        ip(['netns', 'del', name]);
      } catch {
        // already gone
      }
    }
    this.names.clear();
  }
}
