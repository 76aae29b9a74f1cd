/**
 * The panel's HTTP server: Fastify with the gate (security.ts) in front of
 * everything, JSON schemas on every body and query, uploads streamed
 * (multipart), the live WebSocket and the page's static files.
 */
import cookie from '@fastify/cookie';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { dropFolderRoutes } from './api-drop-folder.js';
import { eventRoutes } from './api-events.js';
import { historyRoutes } from './api-history.js';
import { screenRoutes } from './api-screen.js';
import { peerScreenRoutes } from './api-peer-screens.js';
import { sendRoutes } from './api-sends.js';
import { sessionRoutes } from './api-session.js';
import { httpError } from './http-errors.js';
import type { PanelContext } from './panel-context.js';
import { WEB_ROOT } from './web-root.js';

export interface ServerOptions {
  readonly tls?: { readonly cert: string; readonly key: string };
}

export async function createPanelServer(context: PanelContext, options: ServerOptions): Promise<FastifyInstance> {
  const https = options.tls ? { https: { cert: readFileSync(options.tls.cert), key: readFileSync(options.tls.key) } } : {};
  const app = Fastify({
    ...https,
    // The daemon logs; per-request logs would drown it.
    logger: false,
    // JSON bodies are small (ids, names); files come as multipart, which this limit does not apply to.
    bodyLimit: 64 * 1024,
    // A schema's extra field is an error to report, not something to drop silently.
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
  }) as unknown as FastifyInstance;

  app.setErrorHandler((err, _request, reply) => {
    const { status, body } = httpError(err);
    if (status >= 500) context.daemon.log.error({ err: (err as Error).message, code: body.error.code }, `panel request failed: ${(err as Error).message}`);
    return reply.code(status).header('cache-control', 'no-store').send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: { code: 'NVID_ERR_PANEL_NOT_FOUND', message: `${request.method} ${request.url.split('?')[0]} does not exist` } }),
  );

  await app.register(cookie);
  await app.register(multipart);
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  app.addHook('onRequest', context.security.gate);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    // No other site may frame the panel (clickjacking a "send" or "delete").
    reply.header('content-security-policy', "frame-ancestors 'none'");
    reply.header('x-frame-options', 'DENY');
    if (request.url.startsWith('/api/') && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });

  sessionRoutes(app, context);
  historyRoutes(app, context);
  sendRoutes(app, context);
  screenRoutes(app, context);
  peerScreenRoutes(app, context);
  dropFolderRoutes(app, context);
  eventRoutes(app, context);
  await app.register(fastifyStatic, { root: WEB_ROOT, prefix: '/', index: ['index.html'], wildcard: true });
  return app;
}
