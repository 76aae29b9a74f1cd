#!/usr/bin/env node
// The compiled CLI lives in dist/; `npm run build` (or any of the README's commands) makes it.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/core/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('nvid: not built yet: run `npm run build` in the nvid folder first\n');
  process.exit(1);
}
// The command people wait on skips the full parser when its words are plain (core/cli/quick-send.ts).
const quick = process.argv[2] === 'send' && (await import(new URL('../dist/core/cli/quick-send.js', import.meta.url).href)).quickSend(process.argv.slice(3));
if (!(await quick)) {
  const { main } = await import(entry.href);
  await main();
}
