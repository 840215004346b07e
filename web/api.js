// smbgate web UI: the client of the gateway's REST API (/api/v1). Every call
// carries X-Requested-With and the session cookie (HttpOnly, set by the
// gateway at login; the password goes in the login request and nowhere else).
// Errors are ApiError; a 401 on a call that needs a session runs the handler
// given to onUnauthorized() (the login form) before the error is thrown.

import {API, CODE_TEXT, fsUrl} from './util.js';

export const XRW = {'X-Requested-With': 'smbgate'};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
  get title() { return CODE_TEXT[this.code] || `Error ${this.status}`; }
}

// The ApiError of a failed response: the API's {"error": {code, message}},
// or the HTTP status when the body is not that.
export async function errorFrom(res) {
  let code = 'http_' + res.status, message = res.statusText || 'request failed';
  try {
    const j = await res.json();
    if (j && j.error) ({code, message} = j.error);
  } catch { /* not JSON */ }
  return new ApiError(res.status, code, message);
}

let unauthorized = () => {};
// `fn` runs when the session turns out to be gone (a 401).
export function onUnauthorized(fn) { unauthorized = fn; }

// One API call: JSON body in, JSON (or text, or null for 204) out. A 401 on
// anything but login means the session is gone: the user is sent to the
// login form, staying at the same location.
export async function api(method, url, body, {auth = true} = {}) {
  const headers = {...XRW};
  const init = {method, headers, credentials: 'same-origin', cache: 'no-store'};
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new ApiError(0, 'network', 'The gateway cannot be reached (' + e.message + ')');
  }
  if (res.status === 401 && auth) {
    unauthorized();
    throw new ApiError(401, 'unauthorized', 'Your session has ended; log in again.');
  }
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  return type.includes('json') ? res.json() : res.text();
}

// The login request itself, answered as it is: its errors are the form's.
export const loginRequest = (body) => fetch(API + '/login', {
  method: 'POST', credentials: 'same-origin', cache: 'no-store',
  headers: {'Content-Type': 'application/json', ...XRW}, body: JSON.stringify(body),
});

export async function logout() {
  await api('POST', API + '/logout', undefined, {auth: false});
}

// The configured servers' names (GET /api/v1/servers needs no login).
export async function serverNames() {
  const j = await api('GET', API + '/servers', undefined, {auth: false});
  return (j.servers || []).map((e) => e.name).filter((n) => typeof n === 'string');
}

// A folder's listing (or the servers, or a server's shares).
export const list = (segs) => api('GET', fsUrl(segs, true));
