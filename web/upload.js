// smbgate web UI: uploads. Files from the Upload button or dropped on the
// listing go into a queue and are sent one at a time (PUT with
// If-None-Match: *, so that replacing a file is asked first), each with a
// progress bar and a Cancel button in the uploads panel. The folder is listed
// again when the queue is done.

import {$, el} from './dom.js';
import {XRW} from './api.js';
import {fsUrl, humanSize, uploadErrorText} from './util.js';
import * as state from './state.js';
import {ask} from './dialog.js';
import {reload} from './router.js';
import {sessionExpired} from './login.js';
import {TUS_MIN, tusCancel, tusDiscard, tusKeys, tusUpload, unfinishedUploads} from './tus.js';

const uploads = {queue: [], running: null, lastSegs: null};

// True while files are being sent or wait to be.
const uploading = () => Boolean(uploads.running || uploads.queue.length);

function addUploads(files) {
  if (!state.inFolder() || !files.length) return;
  const panel = $('uploads');
  panel.hidden = false;
  for (const file of files) {
    // The same file again: an unfinished upload's line gives way to the upload.
    const keys = tusKeys(state.getSegs(), file);
    for (const li of [...$('upload-list').querySelectorAll('li.unfinished')]) {
      if (keys.includes(li.dataset.key)) li.remove();
    }
    const li = el('li', {class: 'waiting'});
    const bar = el('progress', {max: 100, value: 0});
    const text = el('span', {class: 'up-text'}, `waiting – ${humanSize(file.size)}`);
    const cancel = el('button', {type: 'button', class: 'btn small', 'aria-label': 'Cancel upload of ' + file.name}, 'Cancel');
    li.append(el('span', {class: 'up-name', title: file.name}, file.name), cancel, bar, text);
    $('upload-list').append(li);
    const job = {file, segs: state.getSegs(), li, bar, text, cancel, xhr: null, cancelled: false};
    cancel.onclick = () => {
      job.cancelled = true;
      if (job.xhr) job.xhr.abort();
      if (job.file.size >= TUS_MIN) tusCancel(job, job.overwrite);
      else finishJob(job, 'failed', 'cancelled');
    };
    uploads.queue.push(job);
  }
  updateUploadTitle();
  pumpUploads();
}

function updateUploadTitle() {
  const items = $('upload-list').querySelectorAll('li:not(.unfinished)').length;
  const left = uploads.queue.length + (uploads.running ? 1 : 0);
  $('uploads-title').textContent = left ? `Uploading ${left} of ${items}…`
    : items ? `Uploads done (${items})` : 'Unfinished uploads';
}

// After a reload of the page: the big uploads left unfinished, each with how
// to resume it (choose the same file again into the same folder) and a
// Discard button (its temporary on the share is removed). Once per page.
let unfinishedShown = false;
function showUnfinished() {
  if (unfinishedShown || uploading()) return;
  unfinishedShown = true;
  const list = unfinishedUploads();
  if (!list.length) return;
  for (const u of list) {
    const discard = el('button', {type: 'button', class: 'btn small', 'aria-label': 'Discard upload of ' + u.name}, 'Discard');
    const li = el('li', {class: 'unfinished', 'data-key': u.key},
      el('span', {class: 'up-name', title: u.name}, u.name), discard,
      el('span', {class: 'up-text'}, `not finished (${humanSize(u.size)}) – choose it again in /${u.folder} to resume`));
    discard.onclick = async () => {
      li.remove();
      await tusDiscard(u.key);
      if (!$('upload-list').children.length) $('uploads').hidden = true;
      else updateUploadTitle();
    };
    $('upload-list').append(li);
  }
  $('uploads').hidden = false;
  updateUploadTitle();
}

function finishJob(job, cls, msg) {
  job.li.className = cls;
  job.text.textContent = msg;
  job.cancel.hidden = true;
  const i = uploads.queue.indexOf(job);
  if (i >= 0) uploads.queue.splice(i, 1);
  updateUploadTitle();
}

// One PUT with progress (XMLHttpRequest: fetch() reports no upload progress).
// Resolves with {status, body}; status 0 when the connection failed, -1 when
// cancelled.
function putFile(job, noReplace) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    job.xhr = xhr;
    xhr.open('PUT', fsUrl([...job.segs, job.file.name], false));
    for (const [k, v] of Object.entries(XRW)) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    if (noReplace) xhr.setRequestHeader('If-None-Match', '*');
    const total = job.file.size;
    xhr.upload.onprogress = (ev) => {
      const t = ev.lengthComputable ? ev.total : total;
      const pct = t ? Math.floor((ev.loaded / t) * 100) : 100;
      job.bar.value = pct;
      job.text.textContent = `${humanSize(ev.loaded)} of ${humanSize(t)} (${pct}%)`;
    };
    xhr.onload = () => resolve({status: xhr.status, body: xhr.responseText});
    xhr.onerror = () => resolve({status: 0, body: ''});
    xhr.onabort = () => resolve({status: -1, body: ''});
    job.li.className = 'running';
    job.text.textContent = `0 B of ${humanSize(total)} (0%)`;
    xhr.send(job.file);
  });
}

// A big file: resumable (tus.js), the same answers as putFile().
function tusFile(job, noReplace) {
  job.overwrite = !noReplace;
  const total = job.file.size;
  job.li.className = 'running';
  return tusUpload(job, !noReplace, (done, resumed, note) => {
    const pct = total ? Math.floor((done / total) * 100) : 100;
    job.bar.value = pct;
    job.text.textContent = note || `${humanSize(done)} of ${humanSize(total)} (${pct}%)` +
      (resumed || job.resumed ? ' – resumed' : '');
  });
}

const sendFile = (job, noReplace) =>
  job.file.size >= TUS_MIN ? tusFile(job, noReplace) : putFile(job, noReplace);

async function pumpUploads() {
  if (uploads.running) return;
  const job = uploads.queue.shift();
  if (!job) {
    updateUploadTitle();
    if (state.getSegs().join('/') === (uploads.lastSegs || []).join('/')) await reload();
    return;
  }
  uploads.running = job;
  uploads.lastSegs = job.segs;
  updateUploadTitle();
  let r = await sendFile(job, true);
  if (r.status === 412 && !job.cancelled) {
    job.text.textContent = 'already exists – replace?';
    const yes = await ask({title: 'Replace file?', text: `“${job.file.name}” already exists in this folder. Replace it with the file you are uploading?`,
      ok: 'Replace', danger: true});
    r = yes ? await sendFile(job, false) : {status: -2};
  }
  const msg = uploadErrorText(r);
  if (r.status === 201 || r.status === 204) {
    job.bar.value = 100;
    finishJob(job, 'done', `${humanSize(job.file.size)} – ${r.status === 201 ? 'uploaded' : 'replaced'} (100%)`);
  } else {
    finishJob(job, 'failed', msg);
    if (r.status === 401) {
      // The session ended: stop here, the user logs in again.
      for (const j of uploads.queue.splice(0)) finishJob(j, 'failed', 'not sent (session ended)');
      uploads.running = null;
      sessionExpired();
      return;
    }
  }
  uploads.running = null;
  pumpUploads();
}

// The Upload button, the panel's Close button, dropping files on the listing,
// and the warning when the page is left during uploads.
export function wireUploads() {
  $('btn-upload').addEventListener('click', () => $('file-input').click());
  $('file-input').addEventListener('change', (ev) => {
    addUploads([...ev.target.files]);
    ev.target.value = '';
  });
  document.addEventListener('smbgate:view', (ev) => { if (ev.detail === 'browse') showUnfinished(); });
  $('uploads-close').addEventListener('click', () => {
    $('uploads').hidden = true;
    for (const li of [...$('upload-list').children]) if (li.matches('.done, .failed')) li.remove();
  });

  // Drag and drop of files onto the listing.
  const zone = $('drop-zone');
  let depth = 0;
  const hasFiles = (ev) => [...(ev.dataTransfer?.types || [])].includes('Files');
  zone.addEventListener('dragenter', (ev) => {
    if (!hasFiles(ev) || !state.inFolder()) return;
    ev.preventDefault();
    depth++;
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragover', (ev) => {
    if (!hasFiles(ev) || !state.inFolder()) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = 'copy';
  });
  zone.addEventListener('dragleave', () => {
    if (--depth <= 0) { depth = 0; zone.classList.remove('dragging'); }
  });
  zone.addEventListener('drop', (ev) => {
    depth = 0;
    zone.classList.remove('dragging');
    if (!hasFiles(ev) || !state.inFolder()) return;
    ev.preventDefault();
    addUploads([...ev.dataTransfer.files]);
  });
  // A file dropped beside the zone must not navigate away from the app.
  window.addEventListener('dragover', (ev) => { if (hasFiles(ev)) ev.preventDefault(); });
  window.addEventListener('drop', (ev) => { if (hasFiles(ev)) ev.preventDefault(); });

  window.addEventListener('beforeunload', (ev) => {
    if (uploading()) ev.preventDefault();
  });
}
