/**
 * The `nvid` command line: runs a coordinator or a node in the foreground, and
 * talks to a running node through its control socket.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { stateDirFromConfigFile } from '../config-file.js';
import { callControl } from '../control/client.js';
import { statePaths } from '../state-paths.js';
import { asNvidError, NvidError } from '../errors.js';
import type { HistoryEntry, LibraryItem, Peer, Role, ScheduleState, ScreenState } from '../types.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { fail } from './fail.js';
import { formatHistory, formatLibrary, formatPeers, formatSchedule, formatScreen, formatStatus } from './format.js';
import type { DaemonArgs } from './run-daemon.js';
import { sendCommand } from './send-command.js';
import { formatTrust, formatTrustChange } from './trust-command.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

interface GlobalArgs {
  config?: string;
  state?: string;
  json: boolean;
}

const g = (a: unknown): GlobalArgs => a as GlobalArgs;

/** The state folder of the node a command talks to: --state, else the config's, else the default. */
async function stateDirOf(argv: GlobalArgs, role: Role = 'node'): Promise<string> {
  if (argv.state) return resolve(argv.state);
  // A config whose state folder cannot be read off it gets the daemon's full check, for the message.
  return stateDirFromConfigFile(role, argv.config) ?? (await import('../config.js')).loadConfig({ role, ...(argv.config ? { file: argv.config } : {}) }).stateDir;
}

async function control(argv: GlobalArgs, command: string, args: Record<string, unknown> = {}, onEvent?: (event: string, data: unknown) => void): Promise<unknown> {
  const socket = statePaths(await stateDirOf(argv)).controlSocket;
  return callControl(socket, command, args, onEvent ? { onEvent } : {});
}

/** `key=value` pairs; values that parse as JSON (numbers, booleans, lists) are taken as such. */
function parseKeyValues(pairs: readonly string[]): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new NvidError('NVID_ERR_USAGE', `control arguments are key=value, not "${pair}"`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    args[pair.slice(0, eq)] = value;
  }
  return args;
}

const SCREEN_ACTIONS = ['status', 'skip', 'clear', 'show', 'delete'];

/** `nvid screen ACTION [ITEM]` is this node's screen; `nvid screen PEER [ACTION] [ITEM]` a peer's: an action word comes first or not at all. */
function screenWords(first: string, second: string | undefined, third: string | undefined): { of?: string; action: string; item?: string } {
  const local = SCREEN_ACTIONS.includes(first);
  const words = local ? { action: first, item: second, extra: third } : { of: first, action: second ?? 'status', item: third, extra: undefined };
  if (!SCREEN_ACTIONS.includes(words.action)) throw new NvidError('NVID_ERR_USAGE', `screen: the action is one of ${SCREEN_ACTIONS.join(', ')}, not "${words.action}"`);
  if (words.extra !== undefined) throw new NvidError('NVID_ERR_USAGE', `screen: unexpected "${words.extra}"`);
  if ((words.action === 'show' || words.action === 'delete') && !words.item) throw new NvidError('NVID_ERR_USAGE', `screen ${words.action}: name a library item (see nvid library${local ? '' : ` --of ${first}`})`);
  return { ...(local ? {} : { of: first }), action: words.action, ...(words.item ? { item: words.item } : {}) };
}

/** The playlists-and-schedule file of `nvid schedule set FILE`: a JSON object, read here and sent whole. */
function readSignageFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(resolve(file), 'utf8');
  } catch (err) {
    throw new NvidError('NVID_ERR_USAGE', `schedule set: cannot read ${file}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new NvidError('NVID_ERR_USAGE', `schedule set: ${file} is not JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new NvidError('NVID_ERR_USAGE', `schedule set: ${file} must hold a JSON object { "playlists": {...}, "schedule": {...} }`);
  return data as Record<string, unknown>;
}

function print(argv: GlobalArgs, value: unknown, human: () => string): void {
  process.stdout.write(`${argv.json ? JSON.stringify(value, null, 2) : human()}\n`);
}

function daemonCommand(role: Role) {
  return (y: Argv<GlobalArgs>) => {
    const common = y
      .option('name', { type: 'string', describe: 'name to ask the coordinator for (overrides the config)' })
      .example(`$0 ${role} --config config/${role === 'node' ? 'meeting-room' : 'coordinator'}.json`, `run a ${role} in the foreground`);
    if (role === 'coordinator') return common;
    return common.option('coordinator-fingerprint', {
      type: 'string',
      describe: "the coordinator's certificate fingerprint (its log shows it at start): join only that one, including one found by mDNS (overrides the config)",
    });
  };
}

export async function main(argv = hideBin(process.argv)): Promise<void> {
  let json = argv.includes('--json');
  const cli = yargs(argv)
    .scriptName('nvid')
    .usage('$0 <command> [options]\n\nPush images and videos onto each other\'s screens, end-to-end encrypted.')
    .option('config', { alias: 'c', type: 'string', describe: 'config file (JSON)' })
    .option('state', { type: 'string', describe: 'state folder (identity, history, library, control socket)' })
    .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
    .command(
      'coordinator',
      'run the coordinator (the address book) in the foreground',
      daemonCommand('coordinator'),
      async (a) => (await import('./run-daemon.js')).runDaemon('coordinator', a as unknown as DaemonArgs),
    )
    .command('node', 'run a node (sends and displays media) in the foreground', daemonCommand('node'), async (a) => (await import('./run-daemon.js')).runDaemon('node', a as unknown as DaemonArgs))
    .command('status', 'show what the running node is doing', {}, async (a) => {
      const status = (await control(g(a), 'status')) as Record<string, unknown>;
      print(g(a), status, () => formatStatus(status));
    })
    .command(
      'peers',
      'list the admitted peers the node knows, with their tags',
      (y) => y.option('certs', { type: 'boolean', default: false, describe: 'include certificates (PEM)' }).option('tag', { type: 'string', describe: 'only peers with this tag' }),
      async (a) => {
        const peers = (await control(g(a), 'peers', { certs: a.certs, ...(a.tag !== undefined ? { tag: a.tag } : {}) })) as Peer[];
        print(g(a), peers, () => formatPeers(peers));
      },
    )
    .command(
      'send <file>',
      'send an image or video to a peer or a group; succeeds only once every receiver verified and stored it (exit 9: some did, some not; Ctrl-C cancels; --json streams progress as JSON lines)',
      (y) =>
        y
          .positional('file', { type: 'string', demandOption: true, describe: 'image or video file' })
          .option('to', { alias: 't', type: 'string', demandOption: true, describe: 'a peer name or ID prefix, a list (lobby,kitchen), tag:NAME (every peer with that tag) or all' }),
      async (a) => {
        const socket = statePaths(await stateDirOf(g(a))).controlSocket;
        await sendCommand(socket, resolve(a.file as string), a.to as string, g(a).json);
      },
    )
    .command('rename <name>', "change this node's name (the coordinator tells every peer)", (y) => y.positional('name', { type: 'string', demandOption: true }), async (a) => {
      const result = (await control(g(a), 'rename', { name: a.name })) as { name: string };
      print(g(a), result, () => `renamed to ${result.name}`);
    })
    .command(
      'history',
      'show the event log (joins, leaves, renames, sends, receipts, rejections)',
      (y) => y.option('limit', { alias: 'n', type: 'number', describe: 'newest N entries' }).option('kind', { type: 'string', describe: 'only entries of this kind' }),
      async (a) => {
        const entries = (await control(g(a), 'history', { limit: a.limit, kind: a.kind })) as HistoryEntry[];
        print(g(a), entries, () => formatHistory(entries));
      },
    )
    .command(
      'screenshot',
      "save a PNG of what the node's screen shows now, or (--of PEER, as one of its controllers) a peer's screen",
      (y) =>
        y
          .option('out', { alias: 'o', type: 'string', default: 'screenshot.png' })
          .option('of', { type: 'string', describe: "a peer whose screen to take (this node must be one of the peer's controllers)" })
          .option('width', { type: 'number', describe: 'scale a peer\'s screenshot to this many pixels wide' }),
      async (a) => {
        const result = (await control(g(a), 'screenshot', { out: resolve(a.out), ...(a.of ? { of: a.of } : {}), ...(a.width !== undefined ? { width: a.width } : {}) })) as { path: string };
        print(g(a), result, () => `screenshot${a.of ? ` of ${a.of}` : ''} saved to ${result.path}`);
      },
    )
    .command(
      'screen <action> [item] [extra]',
      "look at or steer this node's screen: status, skip, clear, show ITEM (a library item, again), delete ITEM (it leaves the screen at once); nvid screen PEER ACTION [ITEM] does the same on a peer's screen, as one of its controllers",
      (y) =>
        y
          .positional('action', { type: 'string', demandOption: true, describe: 'status, skip, clear, show, delete, or a peer name followed by one of them' })
          .positional('item', { type: 'string', describe: 'a library item name (see nvid library), or the action after a peer name' })
          .positional('extra', { type: 'string', describe: 'the library item, after a peer name and show or delete' }),
      async (a) => {
        const { of, action, item } = screenWords(a.action as string, a.item as string | undefined, a.extra as string | undefined);
        const state = (await control(g(a), 'screen', { action, ...(item ? { item } : {}), ...(of ? { of } : {}) })) as ScreenState;
        print(g(a), state, () => formatScreen(state));
      },
    )
    .command(
      'library',
      'list the media this node (or, with --of PEER, a peer whose controller this node is) received and keeps, newest first',
      (y) => y.option('of', { type: 'string', describe: 'a peer whose library to list' }),
      async (a) => {
        const items = (await control(g(a), 'library', a.of ? { of: a.of } : {})) as LibraryItem[];
        print(g(a), items, () => formatLibrary(items));
      },
    )
    .command(
      'schedule <action> [file]',
      "show this screen's playlists and schedule and where they came from, or set them from FILE (JSON { playlists, schedule }: checked whole, kept across restarts, played at once); with --on PEER, a peer's, as one of its controllers",
      (y) =>
        y
          .positional('action', { type: 'string', choices: ['show', 'set'], demandOption: true })
          .positional('file', { type: 'string', describe: 'with set: a JSON file { "playlists": {...}, "schedule": {...} }' })
          .option('on', { type: 'string', describe: "a peer whose schedule to show or set (this node must be one of the peer's controllers)" }),
      async (a) => {
        const action = a.action as 'show' | 'set';
        if (action === 'set' && !a.file) throw new NvidError('NVID_ERR_USAGE', 'schedule set: name a JSON file, e.g. nvid schedule set lobby-schedule.json');
        if (action === 'show' && a.file) throw new NvidError('NVID_ERR_USAGE', `schedule show: unexpected "${a.file as string}"`);
        const args = { action, ...(action === 'set' ? { signage: readSignageFile(a.file as string) } : {}), ...(a.on ? { of: a.on } : {}) };
        const state = (await control(g(a), 'schedule', args)) as ScheduleState;
        print(g(a), state, () => formatSchedule(state));
      },
    )
    .command('panel', "print a one-time link that logs a browser into this node's web panel (the panel plugin)", {}, async (a) => {
      const link = (await control(g(a), 'panel')) as { url: string; loginUrl: string; expiresAt: string };
      print(g(a), link, () => `Open this link to log in (once, within 10 minutes):\n${link.loginUrl}`);
    })
    .command(
      'trust [action] [peer]',
      'who may push media here (--as sender) and watch and steer this screen (--as controller): list, add PEER, remove PEER',
      (y) =>
        y
          .positional('action', { type: 'string', choices: ['list', 'add', 'remove'], default: 'list' })
          .positional('peer', { type: 'string', describe: 'a peer name, an ID prefix, or a full fingerprint' })
          .option('as', { type: 'string', choices: ['sender', 'controller'], describe: 'the role to trust the peer in' }),
      async (a) => {
        const action = a.action as 'list' | 'add' | 'remove';
        if (action !== 'list' && (!a.peer || !a.as)) throw new NvidError('NVID_ERR_USAGE', `trust ${action}: name a peer and a role, e.g. nvid trust ${action} lobby --as sender`);
        const result = (await control(g(a), 'trust', { action, ...(a.peer ? { peer: a.peer } : {}), ...(a.as ? { as: a.as } : {}) })) as Parameters<typeof formatTrustChange>[0];
        print(g(a), result, () => (action === 'list' ? formatTrust(result) : formatTrustChange(result, action, a.as as string)));
      },
    )
    .command(
      'control <command> [args..]',
      'send a control command a plugin provides, with key=value arguments (e.g. nvid control drop-folder action=retry)',
      (y) => y.positional('command', { type: 'string', demandOption: true }).positional('args', { type: 'string', array: true, default: [] }),
      async (a) => {
        const result = await control(g(a), a.command as string, parseKeyValues(a.args as string[]));
        print(g(a), result, () => JSON.stringify(result, null, 2));
      },
    )
    .command('stop', 'stop the running node gracefully', {}, async (a) => {
      const result = await control(g(a), 'stop');
      print(g(a), result, () => 'stopping');
    })
    .demandCommand(1, 'name a command; see nvid --help')
    .recommendCommands()
    .strict()
    .version(VERSION)
    .alias('h', 'help')
    .alias('v', 'version')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((message, err, y) => {
      if (err) fail(err, json);
      y.showHelp('error');
      process.stderr.write(`\nnvid: ${message} [NVID_ERR_USAGE]\n`);
      process.exit(EXIT.usage);
    });
  try {
    const parsed = (await cli.parseAsync()) as { json?: boolean };
    json = Boolean(parsed.json);
  } catch (err) {
    fail(err, json);
  }
}
