/**
 * Garbage-collector settings for a long-running daemon process.
 *
 * A transfer turns over about two bytes of Buffer memory per byte sent or
 * received (file reads, cipher output, socket reads): short-lived buffers
 * that a young-generation scavenge frees for next to nothing. But once the
 * daemon's own heap is past V8's incremental-marking activation threshold
 * (about 8 MB; a node with its plugins loaded is 10-11 MB), every 20-30 MB of
 * that turnover counts as "external memory pressure" and starts a full
 * incremental mark-compact: about 70 per GiB on each side, which doubled the
 * sender's CPU per GiB here (bench/send-throughput; also reproduced by
 * loading the transport plugin into a bare sealing loop). Without incremental
 * marking, the pressure is met by scavenges, and full collections happen only
 * when the (small) old generation really grows, atomically: a few ms at a
 * node's heap size, which nothing in a node is sensitive to. Nodes only: a
 * coordinator moves no media, and its heap grows with the nodes connected.
 */
import { setFlagsFromString } from 'node:v8';

/** Applies a node's GC settings to this process; call before it starts moving data. */
export function tuneGarbageCollector(): void {
  // V8 reads this flag at each marking decision, so setting it after start-up takes effect at once.
  setFlagsFromString('--no-incremental-marking');
}
