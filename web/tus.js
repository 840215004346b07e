// smbgate web UI: resumable uploads by the tus 1.0 protocol (/api/v1/uploads/,
// see docs/rest-api.md). Files of TUS_MIN bytes and more go this way: the file is
// sent in chunks (PATCH), and after a network error the client asks the
// gateway for the offset it holds (HEAD) and goes on from there, a few times
// with a growing pause. A 423 is no failure: another request still writes to
// the upload (most often our own cut one, which the gateway has not seen end
// yet, or takes over on our next request): the client asks again as
// Retry-After says, for up to BUSY_WAIT_MS, then gives up with a clear
// message (the upload stays resumable). The upload's address is kept in localStorage under
// the file's fingerprint (target, name, size, date), so that the same file
// chosen again after a reload of the page resumes where it stopped.
// A small client of our own: the gateway's tus is four requests, and the UI
// is plain ES modules with no build step to bring tus-js-client in.

import {API} from './util.js';
import {XRW} from './api.js';

export const TUS_MIN = 8 * 1024 * 1024;
const CHUNK = 8 * 1024 * 1024;
const RETRIES = 5;
const BUSY_WAIT_MS = 90 * 1000; // 423s waited through, in all, before giving up
const BUSY_PAUSE_MAX_MS = 10 * 1000; // the longest Retry-After honoured
const KEY = 'smbgate.tus.';
const TUS = {'Tus-Resumable': '1.0.0', ...XRW};

const b64 = (s) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));
const fingerprint = (job, overwrite) =>
  KEY + [job.segs.join('/'), job.file.name, job.file.size, job.file.lastModified, overwrite].join('\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One request by XMLHttpRequest (progress of the body); resolves with
// {status, headers(name)}: status 0 on a network error, -1 when cancelled.
function send(job, method, url, headers, body, onProgress) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    job.xhr = xhr;
    xhr.open(method, url);
    for (const [k, v] of Object.entries({...TUS, ...headers})) xhr.setRequestHeader(k, v);
    if (onProgress) xhr.upload.onprogress = (ev) => onProgress(ev.loaded);
    const done = (status) => resolve({status, header: (n) => xhr.getResponseHeader(n), body: xhr.responseText});
    xhr.onload = () => done(xhr.status);
    xhr.onerror = () => done(0);
    xhr.onabort = () => done(-1);
    xhr.send(body ?? null);
  });
}

// The pause a 423 asks for (Retry-After, seconds), within bounds.
const busyPause = (r) => {
  const s = Number(r.header('Retry-After'));
  return Math.min(Number.isFinite(s) && s > 0 ? s * 1000 : 2000, BUSY_PAUSE_MAX_MS);
};
const busyGiveUp = () => ({status: 423, body: JSON.stringify({error: {code: 'upload_busy', message:
  `the gateway still held the upload after ${BUSY_WAIT_MS / 1000} s of waiting; ` +
  'choose the file again later to resume it'}})});

// Asks the gateway where the upload stands (HEAD), waiting through 423s (as
// Retry-After says) until job.busyUntil. Resolves with HEAD's answer (still
// 423 once that time has passed).
async function whereNow(job, url, report, offset) {
  for (;;) {
    const h = await send(job, 'HEAD', url);
    if (h.status !== 423) return h;
    const left = (job.busyUntil ??= Date.now() + BUSY_WAIT_MS) - Date.now();
    if (left <= 0) return h;
    report(offset, false, 'waiting for the gateway to release the interrupted request…');
    await sleep(Math.min(busyPause(h), left));
  }
}

async function create(job, overwrite) {
  const [server, share, ...dirs] = job.segs;
  const meta = [['server', server], ['share', share], ['path', '/' + [...dirs, job.file.name].join('/')],
    ['overwrite', overwrite ? '1' : '0'], ['filename', job.file.name]]
    .map(([k, v]) => `${k} ${b64(v)}`).join(',');
  return send(job, 'POST', API + '/uploads/', {'Upload-Length': String(job.file.size), 'Upload-Metadata': meta});
}

// Uploads job.file into the folder job.segs. Resolves with {status} as
// putFile() in upload.js does: 201/204 done, 412 exists (!overwrite), 401,
// 0 network, -1 cancelled, else the gateway's status.
export async function tusUpload(job, overwrite, report) {
  const key = fingerprint(job, overwrite);
  let url = localStorage.getItem(key);
  let offset = 0;
  job.busyUntil = undefined;
  if (url) { // resume: the gateway says where
    const h = await whereNow(job, url, report, 0);
    if (h.status === -1) return {status: -1};
    if (h.status === 423) return busyGiveUp();
    if (h.status === 200) {
      offset = Number(h.header('Upload-Offset'));
      job.busyUntil = undefined;
      report(offset, true);
    } else {
      localStorage.removeItem(key);
      url = null;
    }
  }
  if (!url) {
    const c = await create(job, overwrite);
    if (c.status !== 201) return {status: c.status, body: c.body};
    url = c.header('Location');
    localStorage.setItem(key, url);
  }
  let failures = 0;
  while (offset < job.file.size || job.file.size === 0) {
    if (job.file.size === 0) break; // created complete
    const end = Math.min(offset + CHUNK, job.file.size);
    const r = await send(job, 'PATCH', url, {'Content-Type': 'application/offset+octet-stream',
      'Upload-Offset': String(offset)}, job.file.slice(offset, end), (n) => report(offset + n, false));
    if (r.status === 204) {
      offset = Number(r.header('Upload-Offset'));
      failures = 0;
      job.busyUntil = undefined;
      report(offset, false);
      continue;
    }
    if (r.status === -1) return {status: -1};
    // 423: another request (our cut one) still writes: wait; 409: HEAD knows better.
    if (r.status !== 0 && r.status !== 409 && r.status !== 423 && r.status < 500) {
      localStorage.removeItem(key);
      return {status: r.status, body: r.body};
    }
    if (r.status === 423) {
      const left = (job.busyUntil ??= Date.now() + BUSY_WAIT_MS) - Date.now();
      if (left <= 0) return busyGiveUp();
      report(offset, false, 'waiting for the gateway to release the interrupted request…');
      await sleep(Math.min(busyPause(r), left));
    } else {
      // A network error (or the gateway's): ask where we are, then go on.
      if (++failures > RETRIES) return {status: r.status, body: r.body};
      report(offset, false, `connection lost – resuming (${failures}/${RETRIES})…`);
      await sleep(500 * failures);
    }
    const h = await whereNow(job, url, report, offset);
    if (h.status === -1) return {status: -1};
    if (h.status === 423) return busyGiveUp();
    if (h.status === 200) offset = Number(h.header('Upload-Offset'));
    else if (h.status === 404) { localStorage.removeItem(key); return {status: 404, body: h.body}; }
    job.resumed = true;
  }
  localStorage.removeItem(key);
  return {status: overwrite ? 204 : 201};
}

// The unfinished uploads this browser knows of (after a reload: the page
// cannot read a file again by itself, the user chooses it again):
// [{key, folder (server/share/dirs), name, size}].
export function unfinishedUploads() {
  const out = [];
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    if (!key || !key.startsWith(KEY)) continue;
    const [folder, name, size] = key.slice(KEY.length).split('\n');
    if (folder && name && size !== undefined) out.push({key, folder, name, size: Number(size)});
  }
  return out;
}

// The keys under which an upload of `file` into `segs` may be kept.
export const tusKeys = (segs, file) => [false, true].map((o) => fingerprint({segs, file}, o));

// An unfinished upload given up: its temporary on the share is removed.
export async function tusDiscard(key) {
  const url = localStorage.getItem(key);
  localStorage.removeItem(key);
  if (url) await fetch(url, {method: 'DELETE', headers: TUS, credentials: 'same-origin'}).catch(() => {});
}

// A cancelled upload: its temporary on the share is removed (termination).
export async function tusCancel(job, overwrite) {
  const key = fingerprint(job, overwrite);
  const url = localStorage.getItem(key);
  if (!url) return;
  localStorage.removeItem(key);
  await fetch(url, {method: 'DELETE', headers: TUS, credentials: 'same-origin'}).catch(() => {});
}
