/** The screen and the library: `/api/screen*`, `/api/library*`. Library names always go through the host's library. */
import type { FastifyInstance } from 'fastify';
import { createReadStream } from 'node:fs';
import type { PanelContext } from './panel-context.js';
import { screenImage } from './screen-image.js';

const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 255 } } } as const;

export function screenRoutes(app: FastifyInstance, { daemon, thumbs, events, scratchDir }: PanelContext): void {
  const steer = async (action: 'skip' | 'clear') => {
    const screen = await daemon.steerScreen({ action });
    events.broadcast({ type: 'screen', screen });
    return screen;
  };

  app.get('/api/screen', async () => daemon.steerScreen({ action: 'status' }));
  app.post('/api/screen/skip', async () => steer('skip'));
  app.post('/api/screen/clear', async () => steer('clear'));

  app.get<{ Querystring: { width: number } }>(
    '/api/screen/shot.png',
    { schema: { querystring: { type: 'object', additionalProperties: false, properties: { width: { type: 'integer', minimum: 64, maximum: 1920, default: 480 } } } } },
    async (request, reply) => {
      const png = await screenImage((out) => daemon.screenshot(out), scratchDir, request.query.width);
      return reply.type('image/png').header('cache-control', 'no-store').send(png);
    },
  );

  app.get('/api/library', async () => daemon.library.list().map(({ name, size, modified }) => ({ name, size, modified })));

  app.get<{ Params: { name: string } }>('/api/library/:name/thumb.jpg', { schema: { params: nameParams } }, async (request, reply) => {
    const path = daemon.library.resolve(request.params.name);
    const thumb = await thumbs.of(request.params.name, path);
    // Keyed by mtime and size on disk; the browser may keep it a while, the name alone is not a promise.
    return reply.type('image/jpeg').header('cache-control', 'private, max-age=300').send(createReadStream(thumb));
  });

  app.post<{ Params: { name: string } }>('/api/library/:name/show', { schema: { params: nameParams } }, async (request) => {
    const screen = await daemon.steerScreen({ action: 'show', path: daemon.library.resolve(request.params.name) });
    events.broadcast({ type: 'screen', screen });
    return screen;
  });

  app.delete<{ Params: { name: string } }>('/api/library/:name', { schema: { params: nameParams } }, async (request, reply) => {
    // itemDeleted follows: the live events tell every page (library, screen).
    await daemon.library.delete(request.params.name);
    return reply.code(204).send();
  });
}
