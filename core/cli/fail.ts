/** How every command ends on an error: the message and code (or a JSON line), and the exit code for it. */
import { asNvidError } from '../errors.js';
import { exitCodeFor } from './exit-codes.js';

export function fail(err: unknown, json: boolean): never {
  const error = asNvidError(err, 'NVID_ERR_HOOK');
  if (json) process.stdout.write(`${JSON.stringify({ error: error.toJSON() })}\n`);
  else process.stderr.write(`nvid: ${error.message} [${error.code}]\n`);
  process.exit(exitCodeFor(error.code));
}
