// api.js: the public Step Functions API, exactly as an SDK calls it: POST /
// with X-Amz-Target AWSStepFunctions.<Action> and the AWS JSON 1.0
// protocol, signed with SigV4 when the user signed in (sigv4.js).

import { credentials, sign } from './sigv4.js';

/** ApiError is an error answer: type is AWS's error name. */
export class ApiError extends Error {
  constructor(type, message, status) {
    super(message ? `${type}: ${message}` : type);
    this.type = type;
    this.status = status;
  }
}

/** onAuthError is called when the server asks for credentials. */
export const hooks = { onAuthError: null, onRequest: null };

const AUTH_ERRORS = new Set([
  'MissingAuthenticationTokenException', 'UnrecognizedClientException', 'InvalidSignatureException',
  'IncompleteSignatureException', 'AccessDeniedException', 'ExpiredTokenException',
]);

/** call sends one API action and returns its decoded answer. */
export async function call(action, body = {}, { signal } = {}) {
  const payload = JSON.stringify(body);
  const headers = { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'AWSStepFunctions.' + action };
  const creds = credentials();
  if (creds) Object.assign(headers, await sign(creds, { host: location.host, body: payload, headers }));
  if (hooks.onRequest) hooks.onRequest(action);
  const res = await fetch('/', { method: 'POST', headers, body: payload, signal, credentials: 'omit', cache: 'no-store' });
  const text = await res.text();
  let data = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { message: text };
  }
  if (!res.ok) {
    const type = String(data.__type || res.headers.get('x-amzn-ErrorType') || 'HTTP ' + res.status).split('#').pop().split(':')[0];
    const err = new ApiError(type, data.message || data.Message || '', res.status);
    if (AUTH_ERRORS.has(type) && hooks.onAuthError) hooks.onAuthError(err);
    throw err;
  }
  return data;
}

/** all follows nextToken and returns every item of key. */
export async function all(action, body, key, { limit = Infinity, signal } = {}) {
  const out = [];
  let nextToken;
  do {
    const r = await call(action, { ...body, ...(nextToken ? { nextToken } : {}) }, { signal });
    out.push(...(r[key] || []));
    nextToken = r.nextToken;
  } while (nextToken && out.length < limit);
  return out;
}
