// The admin API client: bearer token from sessionStorage, one error shape.

const TOKEN = 'scrm-console.token';
const CORP = 'scrm-console.corp';

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || '';
  }
}

export const session = {
  token: () => sessionStorage.getItem(TOKEN) || '',
  corp: () => sessionStorage.getItem(CORP) || '',
  save(token, corp) {
    sessionStorage.setItem(TOKEN, token);
    if (corp) sessionStorage.setItem(CORP, corp);
    else sessionStorage.removeItem(CORP);
  },
  clear() {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(CORP);
  },
};

// onUnauthenticated is called when the API answers 401 (set by the app).
let onUnauthenticated = () => {};
export function setUnauthenticatedHandler(fn) { onUnauthenticated = fn; }

// url builds an API URL with query parameters (empty ones left out) and
// the chosen corp.
export function url(path, query) {
  const u = new URL('/api/v1' + path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, String(v));
  }
  const corp = session.corp();
  if (corp && !u.searchParams.has('corp')) u.searchParams.set('corp', corp);
  return u.pathname + u.search;
}

async function send(method, path, { query, body, token, form } = {}) {
  // Reasons, alerts and timeline entries come back in the console's language.
  const headers = { Authorization: 'Bearer ' + (token || session.token()), 'Accept-Language': 'zh-CN' };
  const init = { method, headers, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  } else if (form) {
    init.body = form; // the browser sets the multipart boundary
  }
  let resp;
  try {
    resp = await fetch(url(path, query), init);
  } catch (e) {
    throw new ApiError(0, 'network', '无法连接网关：' + e.message, '');
  }
  if (resp.ok) return resp;
  let err = { code: 'http_' + resp.status, message: `HTTP ${resp.status}`, field: '' };
  try {
    const j = await resp.json();
    if (j && j.error) err = { ...err, ...j.error };
  } catch { /* not JSON */ }
  const e = new ApiError(resp.status, err.code, err.message, err.field);
  if (resp.status === 401 && !token) onUnauthenticated(e);
  throw e;
}

// api calls the API and returns the decoded JSON (null for 204).
export async function api(method, path, opts) {
  const resp = await send(method, path, opts);
  if (resp.status === 204) return null;
  const text = await resp.text();
  return text ? JSON.parse(text) : null;
}

// upload posts a file as multipart form field "file" and returns the
// decoded JSON answer (errors as api's).
export async function upload(path, file) {
  const form = new FormData();
  form.append('file', file, file.name);
  const resp = await send('POST', path, { form });
  return resp.json();
}

export const get = (path, query) => api('GET', path, { query });
export const post = (path, body) => api('POST', path, { body });
export const patch = (path, body) => api('PATCH', path, { body });
export const del = (path) => api('DELETE', path);

// objectURL fetches a file with the bearer token and answers a blob: URL
// for it (an <img> cannot send the token itself).
export async function objectURL(path) {
  const resp = await send('GET', path);
  return URL.createObjectURL(await resp.blob());
}

// download fetches a file with the bearer token and saves it under filename.
export async function download(path, filename) {
  const href = await objectURL(path);
  const a = document.createElement('a');
  a.href = href;
  a.download = filename.replace(/[\\/:*?"<>|\x00-\x1f]+/g, '_');
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10000);
}

// detectRole asks the API who the token is (GET /api/v1/me). 401 throws.
export async function detectRole(token) {
  const me = await (await send('GET', '/me', { token })).json();
  return me.role;
}
