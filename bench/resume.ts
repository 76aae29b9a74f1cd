/**
 * npm run bench -- resume [--mb 200] [--rate 100mbit] [--at 0.5] [--fail-wait 30]
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
 *    namespace). D = the bytes the receiver's link took during that send:
 *    what had crossed before the cut. The receiver, whose transport gives up
 *    on a quiet sender after 5 s (idleTimeoutMs), is waited for until it has
 *    no transfer in progress; then the link comes back. The sender's TCP,
 *    which would otherwise retry into the dead link for many minutes, now
 *    hears what the receiver said when it gave up (or its reset), and the
 *    send fails by itself (today: exit 5, NVID_ERR_REFUSED, the receiver's
 *    "sender went quiet"). Only if it has not failed
 *    `--fail-wait` seconds (default 30) after the link came back is it
 *    cancelled (SIGINT to the CLI), which the bench says: a cancel is the
 *    user's choice and a resuming sender may rightly keep nothing of it.
 * 3. Once the sender lists the receiver again, the same `nvid send FILE --to
 *    r1` runs to the end (the receiver's verified `received` entry). R = the
 *    bytes the sender put on its link meanwhile.
 *
 * resume_retransferred_fraction = max(0, R - (W - D)) / W: the bytes sent
 * again that had already crossed before the cut, over a whole send. A perfect
 * resume sends only the missing W - D (fraction 0); a send that starts again
 * from zero sends W again (fraction D / W, about `--at`). All three are link
 * bytes (the kernel's veth counters) measured the same way, so the overheads
 * cancel; a few hundred bytes of coordinator heartbeats are in them too.
 * resume_receiver_cpu_s: CPU seconds (utime + stime, /proc/PID/stat) of the
 * receiver's daemon during the retry, beside resume_receiver_cpu_full_send_s,
 * the same for the calibration's complete send.
 *
 * With today's code the retry starts from zero: the fraction is about 0.5.
 * Needs root (namespaces, tc); says so and exits 0 otherwise.
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, waitFor } from '../harness/nvid.js';
import { NetnsFleet } from '../test/helpers/netns-fleet.js';
import { BENCH_DIR, cachedVideo, cleanUpOnSignal, figure, flag, MB, note, requireNamespaces, sha256File } from './lib/netns-bench.js';
import { cpuSeconds } from './lib/proc-stats.js';

const WORK = join(BENCH_DIR, 'resume');
/** How soon the receiver gives up on a sender gone quiet (the transport's idleTimeoutMs; default 30 s). */
const RECEIVER_IDLE_MS = 5_000;

async function main(): Promise<void> {
  requireNamespaces('resume');
  const mb = Number(flag('mb', '200'));
  const rate = flag('rate', '100mbit');
  const at = Number(flag('at', '0.5'));
  const failWaitMs = Number(flag('fail-wait', '30')) * 1000;
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
    await fleet.start({ receivers: 1, rate, transport: { idleTimeoutMs: RECEIVER_IDLE_MS }, media: { maxFileBytes: 2 * size + 64 * 1024 ** 2 } });
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
    const D = (await f.rxBytes('r1')) - rx0;
    note(`cut: ${(D / MB).toFixed(1)} MB had crossed the receiver's link (${((D / W) * 100).toFixed(1)}% of a whole send) when it went down`);
    // The receiver gives up on the quiet sender; with its link down, the sender cannot hear that.
    await waitFor(async () => (await f.proc('r1').control<{ transfers: unknown[] }>('status')).transfers.length === 0, 'the receiver to drop the cut transfer', RECEIVER_IDLE_MS + 15_000, 200);
    await f.restoreLink('r1');
    // The sender's next retransmission now meets the receiver's reset: the send fails by itself.
    let firstResult = await Promise.race([first.done, sleep(failWaitMs).then(() => undefined)]);
    if (!firstResult) {
      note(`the send had not failed ${failWaitMs / 1000} s after the link came back: cancelled (SIGINT to nvid send)`);
      first.child.kill('SIGINT');
      const killer = setTimeout(() => first.child.kill('SIGKILL'), 5_000);
      firstResult = await first.done;
      clearTimeout(killer);
    }
    const error = (firstResult.result?.error as { code?: string } | undefined)?.code;
    note(`first attempt: exit ${firstResult.code ?? firstResult.signal}${error ? ` (${error})` : ''} ${((Date.now() - cutAt) / 1000).toFixed(1)} s after the cut`);
    await f.waitForPeers('sender', ['r1'], 60_000);
    await sleep(1000);

    const tx = await f.txBytes('sender');
    const cpu = cpuSeconds(receiverPid);
    const retry = await f.send(file, 'r1');
    if (retry.code !== 0) throw new Error(`the retry exited ${retry.code ?? retry.signal}: ${retry.stdout}${retry.stderr}`);
    const entry = await f.waitForFile('r1', sha, { since: retry.startedAt, timeoutMs: 120_000 });
    const R = (await f.txBytes('sender')) - tx;
    const retryCpu = cpuSeconds(receiverPid) - cpu;
    if (entry.sha256 !== sha) throw new Error('the receiver holds other content');
    const retransferred = Math.max(0, R - (W - D));
    note(`retry: ${(R / MB).toFixed(1)} MB on the sender's link in ${retry.seconds.toFixed(2)} s (a perfect resume: ${((W - D) / MB).toFixed(1)} MB); ${(retransferred / MB).toFixed(1)} MB of what had crossed was sent again; receiver ${retryCpu.toFixed(2)} CPU-s`);

    figure('resume_link_payload_mbit', linkMbit, 'Mbit/s');
    figure('resume_file_mb', size / MB, 'MB');
    figure('resume_delivered_before_cut_fraction', D / W, 'fraction');
    figure('resume_retry_sender_bytes_vs_whole_send_ratio', R / W, 'x');
    figure('resume_retry_s', retry.seconds, 's');
    figure('resume_receiver_cpu_full_send_s', (calibration.cpu * size) / calibrationSize, 's');
    figure('resume_receiver_cpu_s', retryCpu, 's');
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
