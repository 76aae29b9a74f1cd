/**
 * How an error becomes an HTTP answer: `{ error: { code, message } }` with the
 * status that fits its code. Fastify's own errors (schema, JSON, content type)
 * become NVID_ERR_PANEL_BAD_REQUEST naming the field.
 */
import { asNvidError, NvidError } from '../../core/errors.js';

const STATUS: Readonly<Record<string, number>> = {
  NVID_ERR_PANEL_LOGIN: 401,
  NVID_ERR_PANEL_CSRF: 403,
  NVID_ERR_PANEL_HOST: 421,
  NVID_ERR_PANEL_ORIGIN: 403,
  NVID_ERR_PANEL_UPLOAD: 415,
  NVID_ERR_PANEL_TOO_LARGE: 413,
  NVID_ERR_PANEL_BAD_REQUEST: 400,
  NVID_ERR_PANEL_NOT_FOUND: 404,
  NVID_ERR_NOT_AVAILABLE: 404,
  NVID_ERR_LIBRARY_ITEM: 404,
  NVID_ERR_FILE_NOT_FOUND: 404,
  NVID_ERR_UNKNOWN_PEER: 400,
  NVID_ERR_AMBIGUOUS_PEER: 400,
  NVID_ERR_USAGE: 400,
  NVID_ERR_MEDIA_REJECTED: 422,
  NVID_ERR_REFUSED: 422,
  NVID_ERR_NOT_CONTROLLER: 403,
  NVID_ERR_BINARY_MISSING: 503,
  NVID_ERR_NO_SPACE: 507,
};

export interface HttpError {
  readonly status: number;
  readonly body: { error: { code: string; message: string } };
}

interface FastifyishError {
  statusCode?: number;
  validation?: unknown;
  validationContext?: string;
  message?: string;
}

export function httpError(err: unknown): HttpError {
  const fastifyError = err as FastifyishError;
  if (!(err instanceof NvidError) && typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode < 500) {
    // "body/name must NOT have more than 64 characters", "querystring must have required property 'x'": the field is named.
    const code = fastifyError.statusCode === 413 ? 'NVID_ERR_PANEL_TOO_LARGE' : 'NVID_ERR_PANEL_BAD_REQUEST';
    return { status: fastifyError.validation ? 400 : fastifyError.statusCode, body: { error: { code, message: fastifyError.message ?? 'bad request' } } };
  }
  const error = asNvidError(err, 'NVID_ERR_HOOK');
  return { status: STATUS[error.code] ?? 500, body: { error: { code: error.code, message: error.message } } };
}

/** Thrown where a route finds no such upload, send or path. */
export function notFound(what: string): NvidError {
  return new NvidError('NVID_ERR_PANEL_NOT_FOUND', `${what} does not exist`);
}
