/**
 * `GET /api/peers/:id/shot.png`: what another node's screen shows, for its
 * card. Only a peer that trusts this node as a controller answers; the
 * others refuse (NVID_ERR_NOT_CONTROLLER, 403) and the page shows no picture.
 * The PNG comes over the mutual-TLS link through the host's remoteScreen.
 */
import type { FastifyInstance } from 'fastify';
import type { PanelContext } from './panel-context.js';

export function peerScreenRoutes(app: FastifyInstance, { daemon }: PanelContext): void {
  app.get<{ Params: { id: string }; Querystring: { width: number; t?: number } }>(
    '/api/peers/:id/shot.png',
    {
      schema: {
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9a-f]{64}$' } } },
        querystring: { type: 'object', additionalProperties: false, properties: { width: { type: 'integer', minimum: 64, maximum: 1920, default: 320 }, t: { type: 'integer', description: 'ignored: lets the page ask again for a fresh picture' } } },
      },
    },
    async (request, reply) => {
      const answer = await daemon.remoteScreen(request.params.id, { action: 'screenshot', width: request.query.width });
      if (answer.kind !== 'screenshot') throw new Error('the peer answered something else than a screenshot');
      return reply.type('image/png').header('cache-control', 'no-store').send(answer.png);
    },
  );
}
