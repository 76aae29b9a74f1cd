/**
 * Why the crypto plugin uses node:crypto for bulk AES-GCM and RSA: measures,
 * in one run on this machine, node-forge's AES-256-GCM against node:crypto's
 * (and node:crypto at 16 KiB to 1 MiB chunks), the RSA operations of one
 * transfer in both libraries, and the plugin's whole seal and open pipeline
 * through files against a plain file copy and raw AES.
 *
 *   node dist/bench/crypto-aes.js [--mb 256]
 *
 * Prints `figure NAME VALUE UNIT` lines; takes well under a minute.
 */
import { constants, createCipheriv, createDecipheriv, createHash, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes, sign } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import forge from 'node-forge';
import { createIdentity } from '../core/identity.js';
import { chunkNonce } from '../plugins/crypto/envelope-format.js';
import { DEFAULT_OPTIONS } from '../plugins/crypto/options.js';
import { UPDATE_PIECE_BYTES } from '../plugins/crypto/stream-cipher.js';
import { openEnvelope } from '../plugins/crypto/open.js';
import { ReplayGuard } from '../plugins/crypto/replay-guard.js';
import { sealFile } from '../plugins/crypto/seal.js';

const MB = 1e6;
const fileMb = Number(process.argv[process.argv.indexOf('--mb') + 1] ?? 256) || 256;

function figure(name: string, value: number, unit: string): void {
  const shown = value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toPrecision(3);
  console.log(`figure ${name} ${shown} ${unit}`);
}

/** Best of `runs`: the least disturbed measurement of a busy machine. */
function bestSeconds(runs: number, fn: () => void): number {
  let best = Infinity;
  for (let i = 0; i < runs; i += 1) {
    const start = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  return best;
}

/** Best wall time of `runs`, and the CPU seconds (all threads of this process) of that run. */
async function bestSecondsAsync(runs: number, fn: () => Promise<void>): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < runs; i += 1) {
    const start = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    await fn();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (seconds < best) {
      best = seconds;
      const used = process.cpuUsage(cpu);
      lastCpuSeconds = (used.user + used.system) / 1e6;
    }
  }
  return best;
}
let lastCpuSeconds = 0;

const key = randomBytes(32);

/** node-forge AES-256-GCM over `bytes` in 64 KiB chunks (input already in forge's binary-string form). */
function forgeAesMbps(bytes: number): number {
  const chunk = forge.util.createBuffer(randomBytes(65536).toString('binary'));
  const forgeKey = forge.util.createBuffer(key.toString('binary'));
  const seconds = bestSeconds(3, () => {
    for (let i = 0; i < bytes / 65536; i += 1) {
      const cipher = forge.cipher.createCipher('AES-GCM', forgeKey.copy());
      cipher.start({ iv: chunkNonce(i, false).toString('binary') });
      cipher.update(chunk.copy());
      cipher.finish();
    }
  });
  return bytes / seconds / MB;
}

/**
 * node:crypto AES-256-GCM over `bytes` with one cipher per chunk, as the
 * envelope does: `pieceSize` bytes per update() call (the plugin feeds at most
 * UPDATE_PIECE_BYTES; whole chunks in one call show what larger calls cost).
 */
function nodeAesMbps(bytes: number, chunkSize: number, direction: 'encrypt' | 'decrypt', pieceSize = Math.min(chunkSize, UPDATE_PIECE_BYTES)): number {
  const plain = randomBytes(chunkSize);
  const enc = createCipheriv('aes-256-gcm', key, chunkNonce(0, false));
  const sealed = enc.update(plain);
  enc.final();
  const tag = enc.getAuthTag();
  const count = Math.max(1, Math.round(bytes / chunkSize));
  const seconds = bestSeconds(3, () => {
    for (let i = 0; i < count; i += 1) {
      if (direction === 'encrypt') {
        const c = createCipheriv('aes-256-gcm', key, chunkNonce(i, false));
        for (let at = 0; at < chunkSize; at += pieceSize) c.update(plain.subarray(at, at + pieceSize));
        c.final();
        c.getAuthTag();
      } else {
        const d = createDecipheriv('aes-256-gcm', key, chunkNonce(0, false));
        d.setAuthTag(tag);
        for (let at = 0; at < chunkSize; at += pieceSize) d.update(sealed.subarray(at, at + pieceSize));
        d.final();
      }
    }
  });
  return (count * chunkSize) / seconds / MB;
}

function rsaFigures(): void {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const fileKey = randomBytes(32);
  const oaep = { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
  const wrapped = publicEncrypt(oaep, fileKey);
  const data = randomBytes(600);
  const n = 200;
  figure('node_rsa2048_oaep_decrypt_ms', (bestSeconds(1, () => {
    for (let i = 0; i < n; i += 1) privateDecrypt({ ...oaep, key: privateKey }, wrapped);
  }) * 1000) / n, 'ms');
  figure('node_rsa2048_pss_sign_ms', (bestSeconds(1, () => {
    for (let i = 0; i < n; i += 1) sign('sha256', data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  }) * 1000) / n, 'ms');

  const forgePrivate = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const wrappedBinary = wrapped.toString('binary');
  const m = 10;
  figure('forge_rsa2048_oaep_decrypt_ms', (bestSeconds(1, () => {
    for (let i = 0; i < m; i += 1) forgePrivate.decrypt(wrappedBinary, 'RSA-OAEP', { md: forge.md.sha256.create(), mgf1: { md: forge.md.sha256.create() } });
  }) * 1000) / m, 'ms');
  figure('forge_rsa2048_pss_sign_ms', (bestSeconds(1, () => {
    for (let i = 0; i < m; i += 1) {
      const md = forge.md.sha256.create();
      md.update(data.toString('binary'));
      forgePrivate.sign(md, forge.pss.create({ md: forge.md.sha256.create(), mgf: forge.mgf.mgf1.create(forge.md.sha256.create()), saltLength: 32 }));
    }
  }) * 1000) / m, 'ms');
}

/** Seal and open a `fileMb` file through the plugin's own functions, file to file, next to a plain copy. */
async function pipelineFigures(rawRoundTripMbps: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nvid-bench-crypto-'));
  try {
    const size = fileMb * MB;
    const source = join(dir, 'source.bin');
    const zeros = Buffer.alloc(1 << 20);
    const ctr = createCipheriv('aes-256-ctr', createHash('sha256').update('bench').digest(), Buffer.alloc(16));
    let left = size;
    await pipeline(new Readable({ read() { const n = Math.min(left, zeros.length); left -= n; this.push(n ? ctr.update(zeros.subarray(0, n)) : null); } }), createWriteStream(source));

    const copySeconds = await bestSecondsAsync(2, () => pipeline(createReadStream(source, { highWaterMark: 65536 }), createWriteStream(join(dir, 'copy.bin'))));
    const copyCpu = lastCpuSeconds;
    const alice = createIdentity('bench-alice');
    const bob = createIdentity('bench-bob');
    let transfer = 0;
    const meta = () => ({ transferId: `bench-${(transfer += 1)}`, senderId: alice.id, receiverId: bob.id, time: Date.now(), size, mediaType: 'video' as const, fileName: 'bench.mp4' });
    const startRss = process.memoryUsage().rss;
    let peakRss = startRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
    const envelopePath = join(dir, 'envelope.bin');
    const sealSeconds = await bestSecondsAsync(2, async () => {
      const sealed = await sealFile(source, { recipient: bob, sender: alice, meta: meta(), chunkSize: DEFAULT_OPTIONS.chunkSize });
      await pipeline(sealed.stream, createWriteStream(envelopePath));
    });
    const sealCpu = lastCpuSeconds;
    let run = 0;
    const openSeconds = await bestSecondsAsync(2, async () => {
      // Opening the same envelope twice is a replay; each run is a fresh receiver.
      const guard = await ReplayGuard.load({ file: join(dir, `replay-${(run += 1)}.log`), windowMs: 3_600_000 });
      const opened = await openEnvelope({ envelope: createReadStream(envelopePath), sender: alice, identity: bob, replayGuard: guard, replayWindowMs: 3_600_000, maxClockSkewMs: 0 });
      await pipeline(opened.plaintext, createWriteStream(join(dir, 'received.bin')));
    });
    const openCpu = lastCpuSeconds;
    clearInterval(sampler);

    const copyMbps = size / copySeconds / MB;
    const sealMbps = size / sealSeconds / MB;
    const openMbps = size / openSeconds / MB;
    figure('file_copy_mbps', copyMbps, 'MB/s');
    figure('seal_file_mbps', sealMbps, 'MB/s');
    figure('open_file_mbps', openMbps, 'MB/s');
    figure('seal_vs_copy_ratio', sealMbps / copyMbps, 'x');
    figure('open_vs_copy_ratio', openMbps / copyMbps, 'x');
    figure('seal_open_vs_raw_aes_ratio', size / (sealSeconds + openSeconds) / MB / rawRoundTripMbps, 'x');
    // CPU time is steadier than wall time on a shared machine; it counts the file I/O threads too.
    figure('file_copy_cpu_s_per_gb', (copyCpu * 1000) / fileMb, 's/GB');
    figure('seal_file_cpu_s_per_gb', (sealCpu * 1000) / fileMb, 's/GB');
    figure('open_file_cpu_s_per_gb', (openCpu * 1000) / fileMb, 's/GB');
    figure('pipeline_peak_rss_mb', peakRss / MB, 'MB');
    // Flat in the file size: what sealing and opening added on top of the process before them.
    figure('pipeline_rss_growth_mb', (peakRss - startRss) / MB, 'MB');
    figure('pipeline_file_mb', fileMb, 'MB');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const forgeMbps = forgeAesMbps(4 * 1024 * 1024);
figure('forge_aes256gcm_mbps', forgeMbps, 'MB/s');
const defaultChunk = DEFAULT_OPTIONS.chunkSize;
const nodeMbps: Record<number, number> = {};
for (const chunkSize of new Set([16384, 65536, 262144, 1048576, defaultChunk])) {
  nodeMbps[chunkSize] = nodeAesMbps(256 * 1024 * 1024, chunkSize, 'encrypt');
  figure(`node_aes256gcm_${chunkSize / 1024}k_mbps`, nodeMbps[chunkSize], 'MB/s');
}
// The same 256 KiB chunks with each chunk in a single update() call: the cost of larger calls.
figure('node_aes256gcm_256k_one_call_mbps', nodeAesMbps(256 * 1024 * 1024, 262144, 'encrypt', 262144), 'MB/s');
const nodeDecryptMbps = nodeAesMbps(256 * 1024 * 1024, defaultChunk, 'decrypt');
figure(`node_aes256gcm_${defaultChunk / 1024}k_decrypt_mbps`, nodeDecryptMbps, 'MB/s');
figure('forge_vs_node_aes_ratio', forgeMbps / nodeMbps[defaultChunk]!, 'x');
rsaFigures();
// Raw AES both ways at the default chunk size: encrypting then decrypting every byte, nothing else.
const rawRoundTripMbps = 1 / (1 / nodeMbps[defaultChunk]! + 1 / nodeDecryptMbps);
figure(`raw_aes_roundtrip_${defaultChunk / 1024}k_mbps`, rawRoundTripMbps, 'MB/s');
await pipelineFigures(rawRoundTripMbps);
