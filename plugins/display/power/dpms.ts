/**
 * Puts an X display to sleep and wakes it, with `xset` (Debian package
 * x11-xserver-utils) and the server's DPMS extension.
 *
 * - Sleep: `xset +dpms` (DPMS must be enabled for the server to power the
 *   monitor down), then `xset dpms force off`.
 * - Wake: `xset dpms force on`, then `xset s off -dpms`: the screen saver
 *   (which blanks after 10 idle minutes by default) and DPMS's own idle
 *   timeouts are switched off, so nothing but nvid puts a signage screen,
 *   which never sees a key press, back to sleep. Disabling DPMS also powers
 *   the monitor on in the X server, a second guarantee.
 *
 * `xset q` tells the state: "Monitor is Off" while asleep; "DPMS is Disabled"
 * (no monitor line) once woken; "Server does not have the DPMS Extension" on
 * servers that cannot do it at all (Xvfb, the Xorg dummy driver).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { NvidError } from '../../../core/errors.js';
import { findOnPath } from '../../../core/media-tools/binaries.js';
import type { PowerState } from './parse.js';

const run = promisify(execFile);

/** The xset calls for each state, in order (after `-display D`). */
export const XSET_COMMANDS: Readonly<Record<PowerState, readonly (readonly string[])[]>> = {
  off: [['+dpms'], ['dpms', 'force', 'off']],
  on: [['dpms', 'force', 'on'], ['s', 'off', '-dpms']],
};

/** What `xset q` says about DPMS. */
export interface DpmsReading {
  /** Whether the server has the DPMS extension at all. */
  readonly supported: boolean;
  /** Whether DPMS is enabled (undefined when unsupported). */
  readonly enabled?: boolean;
  /** The monitor's level as the server reports it; a disabled DPMS keeps the monitor on. */
  readonly monitor?: 'on' | 'standby' | 'suspend' | 'off';
}

/** Reads the DPMS section of `xset q` output. */
export function parseXsetQuery(output: string): DpmsReading {
  const section = output.slice(output.indexOf('DPMS (Energy Star)'));
  if (!output.includes('DPMS (Energy Star)') || /does not have the DPMS Extension/i.test(section)) return { supported: false };
  if (/DPMS is Disabled/i.test(section)) return { supported: true, enabled: false, monitor: 'on' };
  const level = /Monitor is (?:in )?(On|Off|Standby|Suspend)/i.exec(section)?.[1]?.toLowerCase() as DpmsReading['monitor'];
  return { supported: true, enabled: true, ...(level ? { monitor: level } : {}) };
}

/** `xset -display D q`, read. */
export async function readDpms(xset: string, display: string): Promise<DpmsReading> {
  const { stdout } = await run(xset, ['-display', display, 'q'], { timeout: 5000 });
  return parseXsetQuery(stdout);
}

/** Runs the xset calls that put the display to sleep (`off`) or wake it (`on`). */
export async function setDpms(xset: string, display: string, state: PowerState): Promise<void> {
  for (const args of XSET_COMMANDS[state]) {
    try {
      await run(xset, ['-display', display, ...args], { timeout: 5000 });
    } catch (err) {
      const text = ((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n')[0];
      throw new Error(`xset -display ${display} ${args.join(' ')} failed: ${text}`, { cause: err });
    }
  }
}

/**
 * Finds xset and checks that `display` has DPMS; returns xset's path.
 *
 * @throws NvidError NVID_ERR_POWER_UNAVAILABLE (`details.reason`: `xset-missing`, `no-dpms`, `query-failed`)
 */
export async function checkDpms(display: string): Promise<string> {
  const xset = findOnPath('xset');
  if (!xset) {
    throw new NvidError('NVID_ERR_POWER_UNAVAILABLE', 'the display option power needs xset, which is not on PATH (apt-get install x11-xserver-utils); remove power to run without screen sleep', { details: { reason: 'xset-missing' } });
  }
  let reading: DpmsReading;
  try {
    reading = await readDpms(xset, display);
  } catch (err) {
    const text = ((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n')[0];
    throw new NvidError('NVID_ERR_POWER_UNAVAILABLE', `cannot ask X display "${display}" for its power state (xset q): ${text}`, { cause: err, details: { reason: 'query-failed' } });
  }
  if (!reading.supported) {
    throw new NvidError('NVID_ERR_POWER_UNAVAILABLE', `X display "${display}" has no DPMS extension, so the display option power cannot put its screen to sleep (Xvfb and the Xorg dummy driver have none); remove power on this node`, { details: { reason: 'no-dpms' } });
  }
  return xset;
}
