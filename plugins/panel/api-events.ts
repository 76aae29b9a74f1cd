/** `GET /api/events`: the live WebSocket. The gate checked Host, Origin and the session cookie on the upgrade. */
import type { FastifyInstance } from 'fastify';
import type { EventSocket } from './live-events.js';
import type { PanelContext } from './panel-context.js';

export function eventRoutes(app: FastifyInstance, { events }: PanelContext): void {
  app.get('/api/events', { websocket: true }, (socket: EventSocket) => {
    events.add(socket);
  });
}
