/** Uploads and sends: `POST/DELETE /api/uploads`, `GET/POST/DELETE /api/sends`. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NvidError } from '../../core/errors.js';
import { notFound } from './http-errors.js';
import type { PanelContext } from './panel-context.js';

/** What may surround the file in a multipart body (boundaries, part headers) beyond the file's own bytes. */
const MULTIPART_OVERHEAD = 64 * 1024;
/** How long a refused upload's remaining bytes are read and dropped before the connection is cut. */
const LINGER_MS = 2000;
const ID = { type: 'string', pattern: '^[0-9a-f]{1,64}$' } as const;
const idParams = { type: 'object', required: ['id'], properties: { id: ID } } as const;

export function sendRoutes(app: FastifyInstance, { daemon, uploads, sends }: PanelContext): void {
  app.post('/api/uploads', async (request, reply) => {
    if (!request.isMultipart()) throw new NvidError('NVID_ERR_PANEL_UPLOAD', 'an upload is multipart/form-data with one part "file"');
    const declared = Number(request.headers['content-length']);
    // Refused before a byte is read when the client says up front that it is too large.
    if (declared > uploads.limit + MULTIPART_OVERHEAD) {
      discardRestOfBody(request, reply);
      throw new NvidError('NVID_ERR_PANEL_TOO_LARGE', `the upload is larger than this node's maxReceiveBytes (${uploads.limit} bytes)`, { details: { limit: uploads.limit } });
    }
    const part = await request.file({ limits: { files: 1, fields: 4, parts: 5, fileSize: uploads.limit + 1 }, throwFileSizeLimit: false });
    if (!part || part.fieldname !== 'file') throw new NvidError('NVID_ERR_PANEL_UPLOAD', 'an upload is multipart/form-data with one part "file"');
    try {
      const upload = await uploads.receive(part.filename, part.file, Number.isFinite(declared) ? declared : undefined);
      return reply.code(201).send({ id: upload.id, name: upload.name, size: upload.size });
    } catch (err) {
      discardRestOfBody(request, reply);
      throw err;
    }
  });

  // An upload in two steps, so sends can start with its first byte: announce it (name, size, kind),
  // ask for its sends, then PUT its bytes raw. The bytes stay a stream; no body parser reads them.
  app.addContentTypeParser('application/octet-stream', (_request, _payload, done) => done(null));

  app.post<{ Body: { name: string; size: number; kind: 'image' | 'video' } }>(
    '/api/uploads/announce',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'size', 'kind'],
          properties: { name: { type: 'string', minLength: 1, maxLength: 1024 }, size: { type: 'integer', minimum: 1 }, kind: { enum: ['image', 'video'] } },
        },
      },
    },
    async (request, reply) => {
      const { name, size, kind } = request.body;
      const upload = await uploads.announce(name, size, kind);
      return reply.code(201).send({ id: upload.id, name: upload.name, size: upload.size });
    },
  );

  app.put<{ Params: { id: string } }>('/api/uploads/:id', { schema: { params: idParams } }, async (request, reply) => {
    const upload = uploads.get(request.params.id);
    if (!upload) {
      discardRestOfBody(request, reply);
      throw notFound(`upload ${request.params.id}`);
    }
    const declared = request.headers['content-length'];
    if (declared !== undefined && Number(declared) !== upload.size) {
      discardRestOfBody(request, reply);
      const mismatch = new NvidError('NVID_ERR_PANEL_BAD_REQUEST', `the body has ${declared} bytes but the upload was announced with ${upload.size}`);
      // Its sends would otherwise wait for bytes that will not come.
      uploads.abandon(upload.id, mismatch);
      throw mismatch;
    }
    try {
      await uploads.fill(upload.id, request.raw);
      return reply.code(200).send({ id: upload.id, name: upload.name, size: upload.size });
    } catch (err) {
      discardRestOfBody(request, reply);
      throw err;
    }
  });

  app.delete<{ Params: { id: string } }>('/api/uploads/:id', { schema: { params: idParams } }, async (request, reply) => {
    if (!(await uploads.remove(request.params.id))) throw notFound(`upload ${request.params.id}`);
    return reply.code(204).send();
  });

  app.post<{ Body: { upload: string; to: string[] } }>(
    '/api/sends',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['upload', 'to'],
          properties: { upload: ID, to: { type: 'array', minItems: 1, maxItems: 64, uniqueItems: true, items: { type: 'string', pattern: '^[0-9a-f]{8,64}$' } } },
        },
      },
    },
    async (request, reply) => {
      const upload = uploads.get(request.body.upload);
      if (!upload) throw notFound(`upload ${request.body.upload}`);
      // Every peer is checked before any send starts: a typo sends to nobody rather than to some.
      const peers = request.body.to.map((id) => {
        const peer = daemon.peers.get(id) ?? daemon.peers.resolve(id);
        return { id: peer.id, name: peer.name };
      });
      return reply.code(202).send({ sends: sends.add(upload, peers) });
    },
  );

  app.get('/api/sends', async () => sends.list());

  app.delete<{ Params: { id: string } }>('/api/sends/:id', { schema: { params: idParams } }, async (request, reply) => {
    if (!sends.cancel(request.params.id)) throw notFound(`send ${request.params.id}`);
    return reply.code(204).send();
  });
}

/**
 * After an early refusal the answer goes out at once, while the client may still be sending:
 * what it sends is read and dropped (a socket closed with unread data resets, and the client
 * would lose the answer), for a moment only, then the connection is cut.
 */
function discardRestOfBody(request: FastifyRequest, reply: FastifyReply): void {
  request.raw.unpipe();
  request.raw.resume();
  reply.raw.once('finish', () => {
    if (request.raw.complete) return;
    setTimeout(() => {
      if (!request.raw.complete) request.raw.socket?.destroy();
    }, LINGER_MS).unref();
  });
}
