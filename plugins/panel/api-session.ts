/** Logging in and out, and who this node is: `/login`, `/api/session`, `/api/logout`, `/api/peers`, `/api/rename`. */
import type { FastifyInstance } from 'fastify';
import type { PanelContext } from './panel-context.js';
import { panelPeers } from './peer-list.js';

/** A node name: 1-64 characters, no control characters, no slashes. */
const NAME_PATTERN = '^[^\\u0000-\\u001f\\u007f/\\\\]{1,64}$';

export function sessionRoutes(app: FastifyInstance, { daemon, security, events }: PanelContext): void {
  app.get('/login', { schema: { querystring: { type: 'object', properties: { token: { type: 'string', maxLength: 200 } } } } }, security.login);

  app.get('/api/session', async (request) => {
    const plugins = new Set((daemon.status().plugins as Array<{ name: string }> | undefined)?.map((p) => p.name) ?? []);
    const display = await daemon.steerScreen({ action: 'status' }).then(() => true, () => false);
    return { csrfToken: request.panelSession!.csrfToken, node: { id: daemon.identity.id, name: daemon.name }, features: { display, dropFolder: plugins.has('drop-folder') } };
  });

  app.post('/api/logout', async (request, reply) => {
    security.logout(request, reply);
    return reply.code(204).send();
  });

  app.get('/api/peers', async () => panelPeers(daemon.peers.list()));

  app.post<{ Body: { name: string } }>(
    '/api/rename',
    { schema: { body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', pattern: NAME_PATTERN } } } } },
    async (request) => {
      const name = await daemon.rename(request.body.name);
      events.broadcast({ type: 'node', node: { id: daemon.identity.id, name } });
      return { name };
    },
  );
}
