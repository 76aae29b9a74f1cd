/**
 * npm run bench -- resume [--mb 200] [--rate 100mbit] [--at 0.5] [--down 5] [--fail-wait 60]
 *
 * A send cut off half way and sent again: how much of what had already
 * crossed the link crosses it a second time. A coordinator, a sender and one
 * receiver, each in a network namespace of its own, every node link shaped to
 * `--rate` in both directions (see test/helpers/netns-fleet.ts), real nvid
 * processes; one video of about `--mb` MB (ffmpeg testsrc2 + noise, H.264,
 * cached in .nvid-bench/media).
 *
 * 1. Calibration: a complete send of a second video of the same kind and size
 *    (other noise, so the receiver holds nothing of the measured file) gives
 *    W_per_byte, the bytes a whole send puts on the sender's link per byte of
 *    file (TCP/IP, TLS and envelope overhead included). W = W_per_byte x the
 *    measured file's size: what a complete send of it costs on the wire.
 * 2. `nvid send FILE --to r1`; when the receiver's link has taken `--at` (0.5)
 *    of W, the receiver's link goes down (`ip link set veth0 down` in its
 *    namespace) for `--down` seconds (default 5), then comes back. D = the
 *    bytes the receiver's link took before the cut.
 * 3. The send either gets over the cut by itself (a shared transfer's
 *    receiver pulls again from where its pieces end) or fails; then the same
 *    `nvid send FILE --to r1` runs again, as a person or the drop folder's
 *    retry would. Either way the bench waits for the receiver's verified
 *    `received` entry. A send still going `--fail-wait` seconds (default 60)
 *    after the link came back is cancelled, and the bench says so.
 *    R = every byte the sender put on its link from the first attempt's start
 *    until the receiver held the file.
 *
 * resume_retransferred_fraction = max(0, R - W) / W: what the cut cost in
 * bytes sent twice, over a whole send. A perfect resume sends W in all
 * (fraction 0); a send that starts again from zero after the cut sends about
 * D more (fraction about `--at`). All are link bytes (the kernel's veth
 * counters) measured the same way, so the overheads cancel; a few hundred
 * bytes of coordinator heartbeats are in them too.
 * resume_receiver_cpu_s: CPU seconds (utime + stime, /proc/PID/stat) of the
 * receiver's daemon from the cut until it held the file, beside
 * resume_receiver_cpu_full_send_s, the same for the calibration's whole send.
 *
 * Needs root (namespaces, tc); says so and exits 0 otherwise.
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, waitFor } from '../harness/nvid.js';
import { NetnsFleet } from '../test/helpers/netns-fleet.js';
import { BENCH_DIR, cachedVideo, cleanUpOnSignal, figure, flag, MB, note, requireNamespaces, sha256File } from './lib/netns-bench.js';
import { cpuSeconds } from './lib/proc-stats.js';

const WORK = join(BENCH_DIR, 'resume');

async function main(): Promise<void> {
  requireNamespaces('resume');
  const mb = Number(flag('mb', '200'));
  const rate = flag('rate', '100mbit');
  const at = Number(flag('at', '0.5'));
  const failWaitMs = Number(flag('fail-wait', '60')) * 1000;
  const downMs = Number(flag('down', '5')) * 1000;
  if (!(at > 0 && at < 1)) throw new Error('--at is a fraction between 0 and 1, e.g. 0.5');

  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const file = await cachedVideo(mb, 1);
  const calibrationFile = await cachedVideo(mb, 2);
  const warmFile = await cachedVideo(2, 7);
  const size = statSync(file).size;
  const calibrationSize = statSync(calibrationFile).size;
  const [sha, calibrationSha, warmSha] = await Promise.all([file, calibrationFile, warmFile].map(sha256File));

  let fleet: NetnsFleet | undefined;
  cleanUpOnSignal(() => fleet);
  fleet = new NetnsFleet({ label: 'resume', dir: join(WORK, 'fleet') });
  try {
    note(`resume: a ${(size / MB).toFixed(1)} MB video to one receiver, cut at ${(at * 100).toFixed(0)}% and sent again; every link ${rate} each way`);
    await fleet.start({ receivers: 1, rate, media: { maxFileBytes: 2 * size + 64 * 1024 ** 2 } });
    const f = fleet;
    const linkMbit = await f.measureCopy('sender', 'r1', 20);
    note(`link check: a plain TCP copy sender -> r1 carries ${linkMbit.toFixed(1)} Mbit/s of payload (tbf ${rate})`);
    const receiverPid = f.pid('r1');

    /** A complete send to r1; returns the sender's link bytes and the receiver's CPU seconds. */
    const complete = async (media: string, content: string) => {
      const tx = await f.txBytes('sender');
      const cpu = cpuSeconds(receiverPid);
      const result = await f.send(media, 'r1');
      if (result.code !== 0) throw new Error(`nvid send exited ${result.code ?? result.signal}: ${result.stdout}${result.stderr}`);
      await f.waitForFile('r1', content, { since: result.startedAt, timeoutMs: 120_000 });
      return { tx: (await f.txBytes('sender')) - tx, cpu: cpuSeconds(receiverPid) - cpu, seconds: result.seconds };
    };

    // Warm-up, not counted: both daemons' first transfer compiles their code.
    await complete(warmFile, warmSha);
    const calibration = await complete(calibrationFile, calibrationSha);
    await f.clearLibrary('r1');
    const wirePerByte = calibration.tx / calibrationSize;
    const W = wirePerByte * size;
    note(`calibration: a complete send of ${(calibrationSize / MB).toFixed(1)} MB put ${(calibration.tx / MB).toFixed(1)} MB on the sender's link (${wirePerByte.toFixed(4)} per file byte) in ${calibration.seconds.toFixed(2)} s; receiver ${calibration.cpu.toFixed(2)} CPU-s`);

    // The first attempt, cut when `at` of it has crossed the receiver's link.
    const rx0 = await f.rxBytes('r1');
    const tx0 = await f.txBytes('sender');
    const first = f.startSend(file, 'r1');
    let finishedEarly = false;
    void first.done.then(() => (finishedEarly = true));
    for (;;) {
      if (finishedEarly) throw new Error(`the send ended before ${(at * 100).toFixed(0)}% had crossed: use a larger --mb or a lower --rate`);
      if ((await f.rxBytes('r1')) - rx0 >= at * W) break;
      await sleep(20);
    }
    await f.cutLink('r1');
    const cutAt = Date.now();
    const cpuAtCut = cpuSeconds(receiverPid);
    const D = (await f.rxBytes('r1')) - rx0;
    note(`cut: ${(D / MB).toFixed(1)} MB had crossed the receiver's link (${((D / W) * 100).toFixed(1)}% of a whole send) when it went down for ${downMs / 1000} s`);
    await sleep(downMs);
    await f.restoreLink('r1');
    let firstResult = await Promise.race([first.done, sleep(failWaitMs).then(() => undefined)]);
    if (!firstResult) {
      note(`the send had not ended ${failWaitMs / 1000} s after the link came back: cancelled (SIGINT to nvid send)`);
      first.child.kill('SIGINT');
      const killer = setTimeout(() => first.child.kill('SIGKILL'), 5_000);
      firstResult = await first.done;
      clearTimeout(killer);
    }
    const error = (firstResult.result?.error as { code?: string } | undefined)?.code;
    note(`first attempt: exit ${firstResult.code ?? firstResult.signal}${error ? ` (${error})` : ''} ${((Date.now() - cutAt) / 1000).toFixed(1)} s after the cut`);
    let retried = false;
    if (firstResult.code !== 0) {
      await f.waitForPeers('sender', ['r1'], 60_000);
      retried = true;
      const retry = await f.send(file, 'r1');
      if (retry.code !== 0) throw new Error(`the retry exited ${retry.code ?? retry.signal}: ${retry.stdout}${retry.stderr}`);
      note(`retry: exit 0 in ${retry.seconds.toFixed(2)} s`);
    }
    const entry = await f.waitForFile('r1', sha, { since: first.startedAt, timeoutMs: 120_000 });
    const R = (await f.txBytes('sender')) - tx0;
    const resumedCpu = cpuSeconds(receiverPid) - cpuAtCut;
    const recoverySeconds = (Date.now() - cutAt - downMs) / 1000;
    if (entry.sha256 !== sha) throw new Error('the receiver holds other content');
    const retransferred = Math.max(0, R - W);
    note(
      `${retried ? 'with a retry' : 'without a retry (the send got over the cut by itself)'}: ${(R / MB).toFixed(1)} MB on the sender's link in all (a whole send: ${(W / MB).toFixed(1)} MB); ${(retransferred / MB).toFixed(1)} MB sent twice; the file was held ${recoverySeconds.toFixed(1)} s after the link came back; receiver ${resumedCpu.toFixed(2)} CPU-s from the cut`,
    );

    figure('resume_link_payload_mbit', linkMbit, 'Mbit/s');
    figure('resume_file_mb', size / MB, 'MB');
    figure('resume_delivered_before_cut_fraction', D / W, 'fraction');
    figure('resume_sender_bytes_vs_whole_send_ratio', R / W, 'x');
    figure('resume_after_link_back_s', recoverySeconds, 's');
    figure('resume_receiver_cpu_full_send_s', (calibration.cpu * size) / calibrationSize, 's');
    figure('resume_receiver_cpu_s', resumedCpu, 's');
    figure('resume_retransferred_fraction', retransferred / W, 'fraction');
  } finally {
    await fleet.destroy();
    fleet = undefined;
    rmSync(WORK, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`resume failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
