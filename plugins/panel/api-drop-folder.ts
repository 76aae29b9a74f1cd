/** The drop folder, when that plugin is loaded, through its control command (plugins meet only on the host). */
import type { FastifyInstance } from 'fastify';
import { NvidError } from '../../core/errors.js';
import type { PanelContext } from './panel-context.js';

export function dropFolderRoutes(app: FastifyInstance, { daemon }: PanelContext): void {
  const call = async (action: 'list' | 'retry') => {
    try {
      return await daemon.control('drop-folder', { action });
    } catch (err) {
      // No plugin answers the command: the drop folder is not loaded here.
      if (err instanceof NvidError && err.code === 'NVID_ERR_USAGE') throw new NvidError('NVID_ERR_NOT_AVAILABLE', 'the drop-folder plugin is not loaded on this node');
      throw err;
    }
  };
  app.get('/api/drop-folder', async () => call('list'));
  app.post('/api/drop-folder/retry', async () => call('retry'));
}
