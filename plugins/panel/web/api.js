/**
 * The page's only way to the node: JSON calls to /api (API.md), and uploads
 * with progress. Every state-changing call carries the session's CSRF token;
 * every failure becomes an ApiError whose message a person can read, taken
 * from the server's `{ error: { code, message } }` when it sent one.
 */

let csrfToken = '';
let onLoggedOut = () => undefined;

/** Set once /api/session answered. */
export function useSession(token, loggedOut) {
  csrfToken = token;
  onLoggedOut = loggedOut;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const UNREACHABLE = 'The node does not answer. Is it still running, and is this device on its network?';

/** `api('POST', '/api/rename', { name })`: the parsed answer, or undefined for 204. */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'NETWORK', UNREACHABLE);
  }
  const data = await response.text().then(parseJson);
  if (!response.ok) throw failure(response.status, response.statusText, data, `${method} ${path}`);
  return data;
}

/** A binary answer (a screenshot) as a Blob, with the same errors as api(). */
export async function fetchBlob(path) {
  let response;
  try {
    response = await fetch(path, { credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'NETWORK', UNREACHABLE);
  }
  if (!response.ok) throw failure(response.status, response.statusText, await response.text().then(parseJson), `GET ${path}`);
  return response.blob();
}

/**
 * Sends the bytes of an announced upload (POST /api/uploads/announce) as a
 * raw PUT body; `onProgress(loaded, total)` as they leave the browser.
 * XMLHttpRequest, because fetch reports no upload progress.
 */
export function fillUpload(id, file, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('PUT', `/api/uploads/${encodeURIComponent(id)}`);
    request.setRequestHeader('X-CSRF-Token', csrfToken);
    request.setRequestHeader('Accept', 'application/json');
    // The file's own type would make the server look for a parser; these are just bytes.
    request.setRequestHeader('Content-Type', 'application/octet-stream');
    request.upload.addEventListener('progress', (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size));
    request.addEventListener('load', () => {
      const data = parseJson(request.responseText);
      if (request.status >= 200 && request.status < 300) resolve(data);
      else reject(failure(request.status, request.statusText, data, 'the upload'));
    });
    request.addEventListener('error', () => reject(new ApiError(0, 'NETWORK', UNREACHABLE)));
    request.addEventListener('abort', () => reject(new ApiError(0, 'CANCELLED', 'The upload was cancelled.')));
    request.send(file);
  });
}

function parseJson(text) {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function failure(status, statusText, data, what) {
  if (status === 401) onLoggedOut();
  const error = data && data.error;
  if (error && error.message) return new ApiError(status, error.code, error.message);
  return new ApiError(status, `HTTP_${status}`, `${what} failed: the node answered ${status} ${statusText || ''}`.trim());
}
