/**
 * npm run bench -- fanout-netns [--mb 200] [--rate 100mbit] [--counts 1,4,8,16] [--sequential 4] [--scp 4]
 *
 * A group send on a real, shaped network: a coordinator, a sender and up to N
 * receivers, each in a network namespace of its own on one bridge, every node
 * link shaped to `--rate` in both directions (tbf; see
 * test/helpers/netns-fleet.ts), all real nvid processes. One video (ffmpeg
 * testsrc2 + noise, H.264, about `--mb` MB, does not compress; cached in
 * .nvid-bench/media) goes from the sender to 1 receiver (`--to r1`) and to
 * each larger count in `--counts` (`--to tag:fanout-N`, one group send). For
 * each send:
 * - the time until every receiver holds the verified file: from spawning
 *   `nvid send` to the newest of the receivers' `received` history entries
 *   with the file's SHA-256 (written after the receiver verified and stored
 *   it);
 * - the bytes the sender put on its own link (its veth's tx_bytes).
 * Baselines in the same run, over the same links:
 * - sequential: one-recipient sends one after another, to the first
 *   `--sequential` receivers (default 4); for larger counts the time and bytes
 *   are that mean per receiver times the count (scaled, and said so);
 * - scp loop: `scp` from the sender's namespace to a private sshd in each of
 *   the first `--scp` receivers' namespaces (default 4), one after another,
 *   scaled the same way.
 * Between sends every receiver's library is emptied, so each send is a new
 * delivery. Warm-up sends come first, not counted: a small file to all
 * receivers (a fresh daemon's first send or receipt also pays for compiling
 * its code) and the file to r1 (the sender's first send of a file checks it
 * as media; later ones find that check cached).
 *
 * Figures (the largest count in --counts is N, named by its real value):
 * - fanout_N_vs_single_ratio: time until all N hold the file over the
 *   one-recipient send's (goal for N = 16: at most 2.0); also for each count;
 * - fanout_sender_uplink_N_vs_file_ratio: sender's tx bytes during the
 *   N-recipient send over the file size (goal for N = 16: at most 2.0);
 * - fanout_N_vs_sequential_ratio, fanout_N_vs_scp_loop_ratio;
 * - seconds of each send, and the measured link rate.
 * Needs root (namespaces, tc); says so and exits 0 otherwise.
 */
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NetnsFleet } from '../test/helpers/netns-fleet.js';
import { BENCH_DIR, cachedVideo, cleanUpOnSignal, figure, flag, MB, note, requireNamespaces, sha256File } from './lib/netns-bench.js';
import { SSHD, startSshdsIn } from './lib/netns-sshd.js';

const WORK = join(BENCH_DIR, 'fanout-netns');

interface Measured {
  /** Seconds until every receiver held the verified file. */
  readonly seconds: number;
  /** Bytes on the sender's link. */
  readonly tx: number;
}

async function main(): Promise<void> {
  requireNamespaces('fanout-netns');
  const mb = Number(flag('mb', '200'));
  const rate = flag('rate', '100mbit');
  const counts = [...new Set(flag('counts', '1,4,8,16').split(',').map(Number))].filter((n) => n >= 1).sort((a, b) => a - b);
  if (!counts.length || counts.some((n) => !Number.isInteger(n))) throw new Error('--counts takes whole numbers, e.g. 1,4,8,16');
  const largest = counts.at(-1)!;
  const seqCount = Math.min(largest, Number(flag('sequential', '4')));
  const scpCount = existsSync(SSHD) ? Math.min(largest, Number(flag('scp', '4'))) : 0;

  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const file = await cachedVideo(mb);
  const warmFile = await cachedVideo(2, 7);
  const size = statSync(file).size;
  const sha = await sha256File(file);
  const warmSha = await sha256File(warmFile);

  let fleet: NetnsFleet | undefined;
  cleanUpOnSignal(() => fleet);
  fleet = new NetnsFleet({ label: 'fanout', dir: join(WORK, 'fleet') });
  try {
    note(`fanout-netns: a ${(size / MB).toFixed(1)} MB video from one sender to ${counts.join(', ')} receivers, every link ${rate} each way`);
    await fleet.start({
      receivers: largest,
      rate,
      tags: ['screens'],
      tagsFor: (i) => counts.filter((c) => c > 1 && i <= c).map((c) => `fanout-${c}`),
      media: { maxFileBytes: 2 * size + 64 * 1024 ** 2 },
    });
    const f = fleet;
    const linkMbit = await f.measureCopy('sender', 'r1', 20);
    note(`link check: a plain TCP copy sender -> r1 carries ${linkMbit.toFixed(1)} Mbit/s of payload (tbf ${rate})`);
    const names = (n: number) => Array.from({ length: n }, (_, i) => `r${i + 1}`);
    const clear = (list: readonly string[]) => Promise.all(list.map((n) => f.clearLibrary(n)));

    /** One `nvid send` to `to`, which must reach exactly `list`. */
    const measure = async (to: string, list: readonly string[], content = sha, media = file): Promise<Measured> => {
      const tx = await f.txBytes('sender');
      const result = await f.send(media, to);
      if (result.code !== 0) throw new Error(`nvid send --to ${to} exited ${result.code ?? result.signal}: ${result.stdout}${result.stderr}`);
      const entries = await Promise.all(list.map((n) => f.waitForFile(n, content, { since: result.startedAt, timeoutMs: 120_000 })));
      const done = Math.max(...entries.map((e) => Date.parse(e.time)));
      if (done <= result.startedAt) throw new Error(`a received entry older than the send to ${to}: the measurement is wrong`);
      const measured = { seconds: (done - result.startedAt) / 1000, tx: (await f.txBytes('sender')) - tx };
      await clear(list);
      return measured;
    };

    // Warm-up, not counted: every daemon's first send or receipt compiles its code, and the
    // sender's first send of the file checks it as media (later sends find the check cached).
    await measure('tag:screens', names(largest), warmSha, warmFile);
    await measure('r1', ['r1']);

    const single = await measure('r1', ['r1']);
    note(`1 receiver (--to r1): ${single.seconds.toFixed(2)} s, sender link ${(single.tx / MB).toFixed(1)} MB`);
    const group = new Map<number, Measured>([[1, single]]);
    for (const n of counts.filter((c) => c > 1)) {
      const m = await measure(`tag:fanout-${n}`, names(n));
      group.set(n, m);
      note(`${n} receivers (--to tag:fanout-${n}): ${m.seconds.toFixed(2)} s, sender link ${(m.tx / MB).toFixed(1)} MB (${(m.tx / size).toFixed(2)} x the file)`);
    }

    let seqSeconds = 0;
    let seqTx = 0;
    for (const name of names(seqCount)) {
      const m = await measure(name, [name]);
      seqSeconds += m.seconds;
      seqTx += m.tx;
    }
    const perSeq = { seconds: seqSeconds / seqCount, tx: seqTx / seqCount };
    note(`sequential: ${seqCount} one-recipient sends, ${perSeq.seconds.toFixed(2)} s and ${(perSeq.tx / MB).toFixed(1)} MB each on average${seqCount < largest ? `; counts above ${seqCount} are scaled from that mean` : ''}`);

    let perScp: Measured | undefined;
    if (scpCount > 0) {
      const sshds = await startSshdsIn(f, names(scpCount), join(WORK, 'sshd'));
      try {
        const tx = await f.txBytes('sender');
        const started = Date.now();
        for (const name of names(scpCount)) {
          const dest = join(f.member(name).dir, 'scp-copy.mp4');
          await f.exec('sender', 'scp', [...sshds.scpOptions, file, `${sshds.user}@${f.member(name).address}:${dest}`], 600_000);
          if (statSync(dest).size !== size) throw new Error(`scp to ${name} left ${statSync(dest).size} bytes, not ${size}`);
        }
        const seconds = (Date.now() - started) / 1000;
        perScp = { seconds: seconds / scpCount, tx: ((await f.txBytes('sender')) - tx) / scpCount };
        for (const name of names(scpCount)) rmSync(join(f.member(name).dir, 'scp-copy.mp4'), { force: true });
        note(`scp loop: ${scpCount} copies one after another, ${perScp.seconds.toFixed(2)} s and ${(perScp.tx / MB).toFixed(1)} MB each on average${scpCount < largest ? `; counts above ${scpCount} are scaled from that mean` : ''} (scp ends when the file is written; nothing checks it as media)`);
      } finally {
        sshds.stop();
      }
    } else {
      note(`scp loop: skipped (no ${SSHD}: apt-get install openssh-server)`);
    }

    const scaled = (per: Measured, measuredCount: number, n: number) => `${(per.seconds * n).toFixed(1)}${n > measuredCount ? '*' : ''}`;
    note('');
    note(`receivers | nvid group s | sender link MB | x file | sequential s | scp loop s`);
    for (const n of counts) {
      const m = group.get(n)!;
      note(`${String(n).padStart(9)} | ${m.seconds.toFixed(1).padStart(12)} | ${(m.tx / MB).toFixed(1).padStart(14)} | ${(m.tx / size).toFixed(2).padStart(6)} | ${scaled(perSeq, seqCount, n).padStart(12)} | ${(perScp ? scaled(perScp, scpCount, n) : '-').padStart(10)}`);
    }
    note(`(* scaled from the mean of ${seqCount} sequential sends${perScp ? ` / ${scpCount} scp copies` : ''}; a count of 1 is a one-recipient send, --to r1)`);
    note('');

    figure('fanout_link_payload_mbit', linkMbit, 'Mbit/s');
    figure('fanout_file_mb', size / MB, 'MB');
    figure('fanout_single_s', single.seconds, 's');
    for (const n of counts.filter((c) => c > 1)) {
      figure(`fanout_${n}_s`, group.get(n)!.seconds, 's');
      figure(`fanout_${n}_vs_single_ratio`, group.get(n)!.seconds / single.seconds, 'x');
    }
    for (const n of counts) figure(`fanout_sender_uplink_${n}_vs_file_ratio`, group.get(n)!.tx / size, 'x');
    const top = group.get(largest)!;
    figure(`fanout_${largest}_vs_sequential_ratio`, top.seconds / (perSeq.seconds * largest), 'x');
    if (perScp) figure(`fanout_${largest}_vs_scp_loop_ratio`, top.seconds / (perScp.seconds * largest), 'x');
  } finally {
    await fleet.destroy();
    fleet = undefined;
    rmSync(WORK, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`fanout-netns failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
