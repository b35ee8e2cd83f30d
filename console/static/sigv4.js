// sigv4.js: AWS Signature Version 4 in the browser (WebCrypto), so the
// console's requests are signed the way an SDK's are when the server
// requires credentials. The key the user enters stays in this tab's
// sessionStorage; it is never sent, only used to sign. WebCrypto exists in
// secure contexts only: loopback addresses or HTTPS.

const enc = new TextEncoder();
const KEY = 'stepwell.credentials';

function hex(buf) {
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function sha256(s) {
  return hex(await crypto.subtle.digest('SHA-256', enc.encode(s)));
}

async function hmac(key, s) {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return crypto.subtle.sign('HMAC', k, enc.encode(s));
}

/** amzDate formats a date as X-Amz-Date (20261207T013700Z). */
export function amzDate(d) {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/**
 * sign returns the headers that sign a POST of body to path on host for
 * the service "states": X-Amz-Date, Authorization and, with a session
 * token, X-Amz-Security-Token. headers are the request's other headers to
 * sign (Content-Type, X-Amz-Target).
 */
export async function sign(creds, { host, path = '/', body = '', headers = {}, date = new Date(), service = 'states' }) {
  const when = amzDate(date);
  const day = when.slice(0, 8);
  const h = { host, 'x-amz-date': when };
  for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = v;
  // As the AWS SDKs do: the body's length is signed (the browser sends it).
  const length = enc.encode(body).length;
  if (length > 0) h['content-length'] = String(length);
  if (creds.sessionToken) h['x-amz-security-token'] = creds.sessionToken;
  const names = Object.keys(h).sort();
  const canonicalHeaders = names.map((n) => `${n}:${String(h[n]).trim().replace(/\s+/g, ' ')}\n`).join('');
  const signedHeaders = names.join(';');
  const canonical = ['POST', path, '', canonicalHeaders, signedHeaders, await sha256(body)].join('\n');
  const scope = `${day}/${creds.region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', when, scope, await sha256(canonical)].join('\n');
  let k = await hmac(enc.encode('AWS4' + creds.secretAccessKey), day);
  k = await hmac(k, creds.region);
  k = await hmac(k, service);
  k = await hmac(k, 'aws4_request');
  const signature = hex(await hmac(k, toSign));
  const out = {
    'X-Amz-Date': when,
    Authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
  if (creds.sessionToken) out['X-Amz-Security-Token'] = creds.sessionToken;
  return out;
}

/** credentials returns the key the user signed in with, or null. */
export function credentials() {
  try {
    const c = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    return c && c.accessKeyId && c.secretAccessKey ? c : null;
  } catch {
    return null;
  }
}

/** signIn keeps a key for this tab; signOut forgets it. */
export function signIn(c) {
  sessionStorage.setItem(KEY, JSON.stringify(c));
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}
