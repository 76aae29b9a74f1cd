/**
 * npm run bench -- window-move [--moves 30] [--busy 0]
 *
 * What the hand-over between two items costs in moving the prepared player's
 * window on screen: an `xdotool windowmove` run (the baseline, as the screen
 * did it before) against the same move over the X connection the screen keeps
 * open (plugins/display/x-connection.ts), in the same run, on a real Xvfb with
 * a real ffplay window. `--busy N` keeps N busy loops running meanwhile, as a
 * loaded machine would: the program start is what a busy machine makes slow,
 * and what the viewer saw as the item before staying longer.
 *
 * Prints:
 *   figure window_move_xdotool_ms MEDIAN ms
 *   figure window_move_xdotool_max_ms MAX ms
 *   figure window_move_x_connection_ms MEDIAN ms
 *   figure window_move_x_connection_max_ms MAX ms
 *   figure window_move_xdotool_vs_x_connection_ratio R x   (medians)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { findOnPath } from '../core/media-tools/binaries.js';
import { startXvfb } from '../harness/xvfb.js';
import { FfplayPlayer } from '../plugins/display/player.js';
import { XConnection } from '../plugins/display/x-connection.js';
import { moveWindow } from '../plugins/display/x11.js';
import { median } from './lib/proc-stats.js';

const { values } = parseArgs({ options: { moves: { type: 'string', default: '30' }, busy: { type: 'string', default: '0' } } });
const MOVES = Number(values.moves);
const BUSY = Number(values.busy);

function figure(name: string, value: number, unit: string): void {
  console.log(`figure ${name} ${value.toFixed(2)} ${unit}`);
}

/** Milliseconds each of MOVES moves took, the window going on and off screen in turn. */
async function timeMoves(move: (x: number) => Promise<void>, width: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < MOVES; i += 1) {
    const started = performance.now();
    await move(i % 2 === 0 ? 0 : width);
    times.push(performance.now() - started);
  }
  return times;
}

async function main(): Promise<void> {
  const xdotool = findOnPath('xdotool');
  const ffplay = findOnPath('ffplay');
  if (!xdotool || !ffplay) throw new Error('needs xdotool and ffplay (scripts/bootstrap.sh installs them)');
  const xvfb = await startXvfb('320x240x24');
  const busy: ChildProcess[] = Array.from({ length: BUSY }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  const { display, width, height } = xvfb;
  const player = FfplayPlayer.spawn(ffplay, { input: `color=c=red:s=${width}x${height}`, lavfi: true, audio: false, title: 'nvid-window-move', screen: { width, height }, offscreen: true }, display);
  try {
    await player.waitVisible('xwininfo', display, 15_000);
    const id = player.windowId!;
    const x = await XConnection.open(display);
    const program = await timeMoves((left) => moveWindow(xdotool, display, id, left, 0), width);
    const connection = await timeMoves((left) => x.moveWindow(id, left, 0), width);
    x.close();
    console.log(`# ${MOVES} moves each, ${BUSY} busy loops`);
    figure('window_move_xdotool_ms', median(program), 'ms');
    figure('window_move_xdotool_max_ms', Math.max(...program), 'ms');
    figure('window_move_x_connection_ms', median(connection), 'ms');
    figure('window_move_x_connection_max_ms', Math.max(...connection), 'ms');
    figure('window_move_xdotool_vs_x_connection_ratio', median(program) / median(connection), 'x');
  } finally {
    busy.forEach((child) => child.kill());
    await player.stop();
    await xvfb.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err);
    process.exit(1);
  },
);
