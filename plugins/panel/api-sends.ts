/** Uploads and sends: `POST/DELETE /api/uploads`, `GET/POST/DELETE /api/sends`. */
import type { FastifyInstance } from 'fastify';
import { NvidError } from '../../core/errors.js';
import { notFound } from './http-errors.js';
import type { PanelContext } from './panel-context.js';

/** What may surround the file in a multipart body (boundaries, part headers) beyond the file's own bytes. */
const MULTIPART_OVERHEAD = 64 * 1024;
const ID = { type: 'string', pattern: '^[0-9a-f]{1,64}$' } as const;
const idParams = { type: 'object', required: ['id'], properties: { id: ID } } as const;

export function sendRoutes(app: FastifyInstance, { daemon, uploads, sends }: PanelContext): void {
  app.post('/api/uploads', async (request, reply) => {
    if (!request.isMultipart()) throw new NvidError('NVID_ERR_PANEL_UPLOAD', 'an upload is multipart/form-data with one part "file"');
    const declared = Number(request.headers['content-length']);
    // Refused before a byte is read when the client says up front that it is too large.
    if (declared > uploads.limit + MULTIPART_OVERHEAD) throw tooLarge(uploads.limit, reply);
    const part = await request.file({ limits: { files: 1, fields: 4, parts: 5, fileSize: uploads.limit + 1 }, throwFileSizeLimit: false });
    if (!part || part.fieldname !== 'file') throw new NvidError('NVID_ERR_PANEL_UPLOAD', 'an upload is multipart/form-data with one part "file"');
    try {
      const upload = await uploads.receive(part.filename, part.file);
      return reply.code(201).send({ id: upload.id, name: upload.name, size: upload.size });
    } catch (err) {
      if (err instanceof NvidError && err.code === 'NVID_ERR_PANEL_TOO_LARGE') throw tooLarge(uploads.limit, reply);
      // The rest of the body is not read: the connection closes after the answer.
      reply.header('connection', 'close');
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

/** 413, and the connection closes after it: the rest of the upload is never read. */
function tooLarge(limit: number, reply: { header(name: string, value: string): unknown }): NvidError {
  reply.header('connection', 'close');
  return new NvidError('NVID_ERR_PANEL_TOO_LARGE', `the upload is larger than this node's maxReceiveBytes (${limit} bytes)`, { details: { limit } });
}
