/**
 * A coordinator and nodes on 127.0.0.1, all real `nvid` processes with their
 * own state folders, wired through the bundled transport on ephemeral ports.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { NvidProcess, waitFor } from './nvid.js';
import type { PluginSpec } from '../core/config.js';

export interface NodeSpec {
  name: string;
  /** Plugins after `transport` (default: crypto, media, headless display). */
  plugins?: PluginSpec[];
  /** Extra transport options. */
  transport?: Record<string, unknown>;
  /** Extra top-level config. */
  config?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
}

export const HEADLESS_NODE_PLUGINS: PluginSpec[] = ['crypto', 'media', { use: 'display', options: { output: 'headless' } }];

export class Cluster {
  readonly dir: string;
  coordinator!: NvidProcess;
  coordinatorPort = 0;
  readonly nodes = new Map<string, NvidProcess>();

  constructor(dir: string) {
    this.dir = dir;
  }

  async startCoordinator(transport: Record<string, unknown> = {}): Promise<NvidProcess> {
    const dir = join(this.dir, 'coordinator');
    mkdirSync(dir, { recursive: true });
    // Restarts reuse the port the first run got, so nodes find it again.
    const listen = { host: '127.0.0.1', port: this.coordinatorPort };
    this.coordinator = await NvidProcess.start('coordinator', dir, { plugins: [{ use: 'transport', options: { listen, ...transport } }] });
    const status = await this.coordinator.control<{ transport: { port: number } }>('status');
    this.coordinatorPort = status.transport.port;
    return this.coordinator;
  }

  async startNode(spec: NodeSpec): Promise<NvidProcess> {
    const dir = join(this.dir, spec.name);
    mkdirSync(dir, { recursive: true });
    const transport = { use: 'transport', options: { listen: { host: '127.0.0.1', port: 0 }, coordinator: { host: '127.0.0.1', port: this.coordinatorPort }, ...spec.transport } };
    const node = await NvidProcess.start('node', dir, { name: spec.name, plugins: [transport, ...(spec.plugins ?? HEADLESS_NODE_PLUGINS)], ...spec.config }, spec.env ? { env: spec.env } : {});
    this.nodes.set(spec.name, node);
    return node;
  }

  node(name: string): NvidProcess {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`no node ${name} in this cluster`);
    return node;
  }

  /** Waits until `name` lists exactly `expected` peer names. */
  async waitForPeers(name: string, expected: string[], timeoutMs = 20_000): Promise<void> {
    const want = [...expected].sort().join(',');
    await waitFor(async () => {
      const peers = await this.node(name).control<Array<{ name: string }>>('peers');
      return peers.map((p) => p.name).sort().join(',') === want;
    }, `${name} to list peers ${want}`, timeoutMs);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.stop()));
    if (this.coordinator) await this.coordinator.stop();
  }
}
