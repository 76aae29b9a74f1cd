/**
 * Groups between real processes: nodes declare tags in their config, the
 * coordinator lists them, and `nvid send --to` names a list, `tag:NAME` or
 * `all`; the drop folder's `tag:` subfolder uses the same resolver. What
 * reached a receiver is judged by the SHA-256 of the files in its library.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { exitCodeFor } from '../../core/cli/exit-codes.js';
import type { GroupSendResult, HistoryEntry } from '../../core/types.js';
import { Cluster } from '../helpers/cluster.js';
import { hashCounts, sha256Of } from '../helpers/drop-folder-media.js';
import { solidPng } from '../helpers/media-fixtures.js';
import { removeDir, sendResult, tempDir, waitFor, type RunResult } from '../helpers/nvid.js';

type GroupLine = GroupSendResult & { event: 'group-sent' };
type Line = { event: string; to?: { name: string }; transferId?: string };

const RECEIVERS = {
  lobby: ['floor-2', 'signage'],
  kitchen: ['floor-2', 'pantry'],
  office: ['floor-3'],
  attic: [],
} as const;

function jsonLines(run: RunResult): Line[] {
  return run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Line);
}

/** The last line of `nvid send --json` to a group. */
function groupResult(run: RunResult): GroupLine {
  const last = jsonLines(run).at(-1) as unknown as GroupLine;
  assert.equal(last.event, 'group-sent', `the last line is the group result: ${run.stdout}${run.stderr}`);
  return last;
}

const outcomes = (result: GroupLine) => Object.fromEntries(result.results.map((r) => [r.to.name, r.outcome]));

describe('groups: tags, lists and all, from the CLI and the drop folder', function () {
  this.timeout(180_000);
  let dir: string;
  let drop: string;
  let cluster: Cluster;
  const libraryOf = (name: string) => hashCounts(join(cluster.node(name).stateDir, 'library'));
  const holders = (sha: string) => Object.keys(RECEIVERS).filter((name) => (libraryOf(name).get(sha) ?? 0) > 0).sort();
  const picture = (name: string, colour: string) => solidPng(dir, name, colour);
  const send = (file: string, to: string) => cluster.node('laptop').cli(['send', file, '--to', to, '--json'], { timeoutMs: 60_000 });

  before(async () => {
    dir = tempDir('nvid-groups-it-');
    drop = join(dir, 'drop');
    mkdirSync(drop);
    cluster = new Cluster(dir);
    // A receiver frozen for a whole test stays listed: what is tested is the sender's failure, and a
    // test slower than the default 15 s timeout (CI on two busy cores) would otherwise see it dropped.
    await cluster.startCoordinator({ heartbeatTimeoutMs: 120_000 });
    for (const [name, tags] of Object.entries(RECEIVERS)) await cluster.startNode({ name, config: { tags: [...tags] } });
    await cluster.startNode({
      name: 'laptop',
      // A frozen receiver fails within 2 s instead of the default 10.
      transport: { authTimeoutMs: 2000 },
      plugins: ['crypto', 'media', { use: 'drop-folder', options: { folder: drop, stableMs: 300, pollMs: 100 } }],
    });
    await cluster.waitForPeers('laptop', Object.keys(RECEIVERS));
  });
  after(async () => {
    await cluster?.stop();
    removeDir(dir);
  });

  it('lists peers with their tags, and only the tagged ones with --tag', async () => {
    const all = await cluster.node('laptop').control<Array<{ name: string; tags: string[] }>>('peers');
    assert.deepEqual(Object.fromEntries(all.map((p) => [p.name, p.tags])), Object.fromEntries(Object.entries(RECEIVERS).map(([n, t]) => [n, [...t]])));
    const tagged = await cluster.node('laptop').cli(['peers', '--tag', 'floor-2', '--json']);
    assert.equal(tagged.code, 0, tagged.stderr);
    assert.deepEqual((JSON.parse(tagged.stdout) as Array<{ name: string }>).map((p) => p.name).sort(), ['kitchen', 'lobby']);
    const human = await cluster.node('laptop').cli(['peers']);
    assert.match(human.stdout, /TAGS/);
    assert.match(human.stdout, /lobby\s.*floor-2,signage/);
  });

  it('sends to tag:floor-2: exactly the tagged peers get it, each with its own start line, then one group-sent line', async () => {
    const file = await picture('floor-2.png', 'red');
    const run = await send(file, 'tag:floor-2');
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const result = groupResult(run);
    assert.deepEqual(outcomes(result), { kitchen: 'sent', lobby: 'sent' });
    assert.equal(result.targets, 'tag:floor-2');
    assert.equal(result.delivered, 2);
    assert.equal(result.failed, 0);
    const starts = jsonLines(run).filter((l) => l.event === 'start');
    assert.deepEqual(starts.map((l) => l.to!.name).sort(), ['kitchen', 'lobby'], 'one start line per recipient, naming it');
    for (const line of jsonLines(run).filter((l) => l.event === 'progress')) assert.ok(line.to?.name, 'progress names its recipient');
    assert.deepEqual(holders(sha256Of(file)), ['kitchen', 'lobby'], 'not the office (floor-3) nor the attic (no tags)');

    const history = await cluster.node('laptop').control<HistoryEntry[]>('history', { kind: 'group-sent' });
    const entry = history.at(-1)!;
    assert.equal(entry.targets, 'tag:floor-2');
    assert.equal(entry.recipients, 2);
    assert.equal(entry.delivered, 2);
    assert.equal(entry.failed, 0);
    const sent = await cluster.node('laptop').control<HistoryEntry[]>('history', { kind: 'sent' });
    const transferIds = new Set(result.results.map((r) => r.outcome === 'sent' && r.transferId));
    assert.equal(sent.filter((e) => transferIds.has(e.transferId as string)).length, 2, "each recipient's own sent entry");
  });

  it('sends to a list and to all; one peer by name keeps the sent line it always had', async () => {
    const listed = await picture('list.png', 'green');
    const run = await send(listed, 'lobby,kitchen,lobby');
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.deepEqual(outcomes(groupResult(run)), { lobby: 'sent', kitchen: 'sent' }, 'lobby once');
    assert.deepEqual(holders(sha256Of(listed)), ['kitchen', 'lobby']);

    const everyone = await picture('all.png', 'blue');
    const all = await send(everyone, 'all');
    assert.equal(all.code, 0, all.stdout + all.stderr);
    assert.equal(groupResult(all).delivered, 4);
    assert.deepEqual(holders(sha256Of(everyone)), ['attic', 'kitchen', 'lobby', 'office']);

    const single = await picture('single.png', 'yellow');
    const one = await send(single, 'office');
    assert.equal(one.code, 0, one.stderr);
    assert.equal(sendResult(one.stdout).receipt.receiverId, (await cluster.node('office').control<{ id: string }>('status')).id);

    const unknown = await send(single, 'lobby,cellar');
    assert.equal(unknown.code, 6, 'an unknown name in a list is an unknown peer');
    assert.match(unknown.stdout, /cellar/);
    const nobody = await send(single, 'tag:basement');
    assert.equal(nobody.code, 6);
    assert.match(nobody.stdout, /basement/);
  });

  it('sends a drop-folder file in a tag:floor-2 subfolder to every peer with that tag', async () => {
    const file = await picture('dropped.png', 'purple');
    mkdirSync(join(drop, 'tag:floor-2'));
    copyFileSync(file, join(drop, 'tag:floor-2', 'dropped.png'));
    const sha = sha256Of(file);
    await waitFor(() => holders(sha).length === 2, 'the dropped file to reach both floor-2 peers', 30_000);
    assert.deepEqual(holders(sha), ['kitchen', 'lobby']);
  });

  it('reports two receipts and one failure with exit code 9 when one of three peers is frozen, and the failure code when all fail', async () => {
    const kitchen = cluster.node('kitchen');
    kitchen.child.kill('SIGSTOP');
    try {
      const file = await picture('partial.png', 'orange');
      const run = await send(file, 'lobby,kitchen,office');
      assert.equal(run.code, 9, run.stdout + run.stderr);
      const result = groupResult(run);
      assert.deepEqual(outcomes(result), { lobby: 'sent', kitchen: 'failed', office: 'sent' });
      assert.equal(result.delivered, 2);
      assert.equal(result.failed, 1);
      const failed = result.results.find((r) => r.outcome === 'failed')!;
      assert.ok(failed.outcome === 'failed' && /^NVID_ERR_/.test(failed.error.code), JSON.stringify(failed));
      assert.deepEqual(holders(sha256Of(file)), ['lobby', 'office']);
      const failures = await cluster.node('laptop').control<HistoryEntry[]>('history', { kind: 'send-failed' });
      assert.ok(failures.some((e) => e.toName === 'kitchen' && e.path === result.file), "the kitchen's send-failed entry");
      const group = (await cluster.node('laptop').control<HistoryEntry[]>('history', { kind: 'group-sent' })).at(-1)!;
      assert.deepEqual([group.targets, group.delivered, group.failed], ['lobby,kitchen,office', 2, 1]);

      const alone = await send(file, 'tag:pantry');
      const only = groupResult(alone);
      assert.equal(only.delivered, 0);
      const code = only.results[0]!.outcome === 'failed' ? only.results[0]!.error.code : '';
      assert.equal(alone.code, exitCodeFor(code), 'all failed: the usual code of the failure');
      assert.notEqual(alone.code, 0);
      assert.notEqual(alone.code, 9);
    } finally {
      kitchen.child.kill('SIGCONT');
    }
  });
});
