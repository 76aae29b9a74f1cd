/**
 * The page's files: `plugins/panel/web/` at the repository root. They are not
 * compiled, so the folder is found from this file's compiled place
 * (dist/plugins/panel/) three levels up.
 */
import { fileURLToPath } from 'node:url';

export const WEB_ROOT = fileURLToPath(new URL('../../../plugins/panel/web/', import.meta.url));
