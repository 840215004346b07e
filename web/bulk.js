// smbgate web UI: the bulk actions beside the listing: "Download as zip" (the
// current folder, or the ticked entries) and the search "in this folder and
// below", whose results (NDJSON from the gateway) show while they arrive,
// each opening its folder or downloading its file.

import {$, el} from './dom.js';
import {XRW, errorFrom} from './api.js';
import {API, fsUrl, humanSize} from './util.js';
import * as state from './state.js';
import {setMessage} from './listing.js';
import {sessionExpired} from './login.js';

const enc = (s) => encodeURIComponent(s);

// A download the browser saves itself (no copy of the archive in the page).
function saveUrl(url) {
  const a = el('a', {href: url, download: ''});
  document.body.append(a);
  a.click();
  a.remove();
}

// The folder as a zip, by a plain GET; a selection by POST (JSON), saved
// from a blob.
export async function downloadZip() {
  const segs = state.getSegs();
  if (!state.inFolder()) return;
  const items = state.selectedEntries();
  if (!items.length) {
    saveUrl(fsUrl(segs, true) + '?download=zip');
    setMessage('Preparing the zip of this folder…', 'ok');
    return;
  }
  const [server, share, ...dirs] = segs;
  setMessage(`Preparing the zip of ${items.length} item${items.length > 1 ? 's' : ''}…`, 'ok');
  const res = await fetch(`${API}/zip/${enc(server)}/${enc(share)}`, {
    method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json', ...XRW},
    body: JSON.stringify({paths: items.map((e) => '/' + [...dirs, e.name].join('/'))}),
  });
  if (res.status === 401) { sessionExpired(); return; }
  if (!res.ok) {
    const e = await errorFrom(res);
    setMessage(`Could not make the zip: ${e.title} – ${e.message}`, 'bad');
    return;
  }
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = el('a', {href: url, download: (dirs.at(-1) || share) + '.zip'});
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  setMessage(`Zip of ${items.length} item${items.length > 1 ? 's' : ''} downloaded (${humanSize(blob.size)}).`, 'ok');
}

let searchCtl = null;

function resultItem(e) {
  // e.path: "/server/share/dir/name"
  const segs = e.path.split('/').slice(1);
  const where = '/' + segs.slice(2, -1).join('/');
  const href = e.type === 'dir' ? '#/' + segs.map(enc).join('/')
    : fsUrl(segs, false) + '?download=1';
  const link = e.type === 'dir'
    ? el('a', {href, class: 'open'}, e.name + '/')
    : el('a', {href, download: ''}, e.name);
  const folder = el('a', {href: '#/' + segs.slice(0, -1).map(enc).join('/'), class: 'where'}, where);
  return el('li', {'data-path': e.path, 'data-type': e.type}, link, ' ', folder,
    e.type === 'file' ? el('small', {}, ' ' + humanSize(e.size)) : '');
}

export function closeSearch() {
  if (searchCtl) searchCtl.abort();
  searchCtl = null;
  $('search-panel').hidden = true;
  $('search-list').replaceChildren();
}

// Streams the results of the search box's text under the current folder.
export async function runSearch(text) {
  closeSearch();
  if (!text || !state.inFolder()) return;
  const segs = state.getSegs();
  const ctl = new AbortController();
  searchCtl = ctl;
  const list = $('search-list');
  $('search-panel').hidden = false;
  $('search-status').textContent = 'Searching…';
  let n = 0;
  try {
    const res = await fetch(`${API}/search/${segs.map(enc).join('/')}?q=${enc(text)}`,
      {headers: XRW, credentials: 'same-origin', signal: ctl.signal});
    if (res.status === 401) { sessionExpired(); return; }
    if (!res.ok) {
      const e = await errorFrom(res);
      $('search-status').textContent = `Search failed: ${e.title} – ${e.message}`;
      return;
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buf += value;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const e = JSON.parse(line);
        if (e.done) {
          $('search-status').textContent = `${e.results} found` +
            (e.limit_reached ? ' (the first ones only: refine the search)' : '') +
            (e.deadline_reached ? ' (the search took too long and stopped)' : '') +
            (e.depth_reached ? ' (folders deeper than the search goes were not searched)' : '') +
            (e.unsearched_folders ? ` – ${e.unsearched_folders} folder(s) not searched` : '');
        } else {
          list.append(resultItem(e));
          $('search-status').textContent = `Searching… ${++n} found`;
        }
      }
    }
  } catch (e) {
    if (e.name !== 'AbortError') $('search-status').textContent = 'Search failed: ' + e.message;
  }
}

export function wireBulk() {
  $('btn-zip').addEventListener('click', downloadZip);
  $('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    runSearch($('search').value.trim());
  });
  $('search-close').addEventListener('click', closeSearch);
  window.addEventListener('hashchange', closeSearch);
}
