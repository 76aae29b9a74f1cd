/** `GET /api/history`: the event log, newest first, a page at a time. */
import type { FastifyInstance } from 'fastify';
import { historyPage } from './history-page.js';
import type { PanelContext } from './panel-context.js';

interface Query {
  kind?: string;
  peer?: string;
  before?: string;
  limit: number;
}

export function historyRoutes(app: FastifyInstance, { daemon }: PanelContext): void {
  const querystring = {
    type: 'object',
    additionalProperties: false,
    properties: {
      kind: { type: 'string', pattern: '^[a-z-]{1,32}$' },
      peer: { type: 'string', minLength: 1, maxLength: 200 },
      before: { type: 'string', pattern: '^[0-9]{1,15}$' },
      limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    },
  };
  app.get<{ Querystring: Query }>('/api/history', { schema: { querystring } }, async (request) => {
    const { kind, peer, before, limit } = request.query;
    let peerValues: string[] | undefined;
    if (peer !== undefined) {
      // A name or ID prefix of a known peer matches its entries by ID too (names change, IDs do not).
      let known: string | undefined;
      try {
        known = daemon.peers.resolve(peer).id;
      } catch {
        known = undefined;
      }
      peerValues = known ? [peer, known] : [peer];
    }
    return historyPage(await daemon.history.read(), { limit, ...(kind ? { kind } : {}), ...(peerValues ? { peer: peerValues } : {}), ...(before !== undefined ? { before } : {}) });
  });
}
