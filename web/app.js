// smbgate web UI: an ES module, no framework, no build step. Talks only to the
// gateway's REST API (/api/v1). Authentication is the HttpOnly session cookie
// the gateway sets at login: the password goes in the login request body and
// nowhere else; nothing secret is kept in storage.
//
// Location: the hash, "#/server/share/dir/sub" with each segment
// percent-encoded, so back/forward, reload and bookmarks work.

const API = '/api/v1';
const XRW = {'X-Requested-With': 'smbgate'};

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v);
  }
  for (const kid of kids) if (kid != null) e.append(kid);
  return e;
};
const icon = (name, cls = 'icon') => {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  const use = document.createElementNS('http://www.w3.org/2000/svg', 'use');
  use.setAttribute('href', 'icons.svg#' + name);
  svg.append(use);
  return svg;
};

// ---------------------------------------------------------------- state
const state = {
  segs: [],          // [server, share, ...dirs]
  entries: [],       // current listing
  sort: {key: 'name', dir: 1},
  filter: '',
  selected: new Set(),
  loadSeq: 0,
  user: sessionStorage.getItem('smbgate.user') || '',
  server: sessionStorage.getItem('smbgate.server') || '',
  view: null,        // 'login' | 'browse'
};

// ---------------------------------------------------------------- helpers
export function humanSize(n) {
  if (n == null || Number.isNaN(n)) return '';
  if (n < 1024) return n + ' B';
  const units = ['KB', 'MB', 'GB', 'TB', 'PB'];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (v < 10 ? v.toFixed(1) : Math.round(v)) + ' ' + units[i];
}
const dateFmt = new Intl.DateTimeFormat(undefined, {dateStyle: 'medium', timeStyle: 'short'});
function fmtDate(s) {
  if (!s) return '';
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? '' : dateFmt.format(d);
}
const enc = (segs) => segs.map(encodeURIComponent).join('/');
const fsUrl = (segs, dir) => API + '/fs/' + enc(segs) + (dir && segs.length ? '/' : '');
const hashFor = (segs) => '#/' + enc(segs);
// Path inside the share, from its root: "/a/b".
const sharePath = (segs) => '/' + segs.slice(2).join('/');

function parseHash() {
  const h = location.hash.replace(/^#\/?/, '');
  if (!h) return [];
  try {
    return h.split('/').filter((s) => s !== '').map(decodeURIComponent);
  } catch {
    return [];
  }
}

const EXT = {
  'file-text': ['txt', 'md', 'log', 'csv', 'ini', 'conf', 'cfg', 'rtf', 'nfo'],
  'file-image': ['png', 'jpg', 'jpeg', 'gif', 'webp', 'svg', 'bmp', 'ico', 'tif', 'tiff', 'heic'],
  'file-pdf': ['pdf'],
  'file-archive': ['zip', 'gz', 'tgz', 'tar', 'bz2', 'xz', '7z', 'rar', 'zst', 'iso'],
  'file-audio': ['mp3', 'wav', 'ogg', 'flac', 'm4a', 'aac', 'opus'],
  'file-video': ['mp4', 'webm', 'mkv', 'avi', 'mov', 'm4v'],
  'file-code': ['js', 'mjs', 'ts', 'c', 'h', 'cpp', 'py', 'sh', 'json', 'xml', 'html', 'htm', 'css', 'yaml', 'yml', 'go', 'rs', 'java', 'ps1', 'bat', 'sql'],
  'file-doc': ['doc', 'docx', 'odt', 'xls', 'xlsx', 'ods', 'ppt', 'pptx', 'odp'],
};
const EXT_ICON = new Map(Object.entries(EXT).flatMap(([k, list]) => list.map((e) => [e, k])));
// What the browser can show itself: opened in a new tab instead of downloaded.
const VIEWABLE = new Set(['txt', 'md', 'log', 'csv', 'json', 'xml', 'png', 'jpg', 'jpeg', 'gif', 'webp', 'svg', 'bmp', 'ico', 'pdf', 'mp3', 'mp4', 'webm', 'wav', 'ogg']);
const ext = (name) => {
  const i = name.lastIndexOf('.');
  return i > 0 ? name.slice(i + 1).toLowerCase() : '';
};
function iconFor(e) {
  if (e.type === 'server') return 'server';
  if (e.type === 'share') return 'share';
  if (e.type === 'dir') return 'folder';
  return EXT_ICON.get(ext(e.name)) || 'file';
}

// Friendlier words for the API's error codes; the server's message follows.
const CODE_TEXT = {
  access_denied: 'Access denied',
  not_found: 'Not found',
  exists: 'Already exists',
  not_empty: 'The folder is not empty',
  bad_name: 'That name is not allowed',
  bad_path: 'That name or path is not valid',
  too_large: 'Too large',
  server_unreachable: 'The file server cannot be reached',
  timeout: 'The file server did not answer in time',
  too_many_sessions: 'The gateway is busy (too many sessions)',
  sandbox_failed: 'The session failed',
  no_space: 'The share is full',
  wrong_server: 'Another server',
  csrf: 'Request refused',
};

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
  get title() { return CODE_TEXT[this.code] || `Error ${this.status}`; }
}

async function errorFrom(res) {
  let code = 'http_' + res.status, message = res.statusText || 'request failed';
  try {
    const j = await res.json();
    if (j && j.error) ({code, message} = j.error);
  } catch { /* not JSON */ }
  return new ApiError(res.status, code, message);
}

// One API call. A 401 on anything but login means the session is gone: the
// user is sent to the login form, staying at the same location.
async function api(method, url, body, {auth = true} = {}) {
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
    sessionExpired();
    throw new ApiError(401, 'unauthorized', 'Your session has ended; log in again.');
  }
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  return type.includes('json') ? res.json() : res.text();
}

// ---------------------------------------------------------------- views
function showView(v) {
  state.view = v;
  document.body.classList.remove('booting');
  $('login-view').hidden = v !== 'login';
  $('browse-view').hidden = v !== 'browse';
  $('who').hidden = v !== 'browse';
  if (v === 'browse') {
    $('who-text').textContent = state.user
      ? `${state.user}${state.server ? ' @ ' + state.server : ''}` : '';
  }
}

function knownServers() {
  try {
    const l = JSON.parse(localStorage.getItem('smbgate.servers') || '[]');
    return Array.isArray(l) ? l.filter((s) => typeof s === 'string') : [];
  } catch {
    return [];
  }
}

function showLogin(notice = '') {
  const servers = knownServers();
  const wanted = state.segs[0] || state.server || '';
  const sel = $('login-server-select'), input = $('login-server');
  // Several servers known (from an earlier session): a chooser. One: nothing
  // to choose. None known yet: an optional text field (default = the first).
  if (servers.length > 1) {
    sel.replaceChildren(...servers.map((s) => el('option', {value: s}, s)));
    sel.value = servers.includes(wanted) ? wanted : servers[0];
    sel.hidden = false;
    input.hidden = true;
    $('login-server-row').hidden = false;
    $('login-server-row').querySelector('label').htmlFor = 'login-server-select';
  } else {
    sel.hidden = true;
    input.hidden = false;
    input.value = servers.length === 1 ? servers[0] : wanted;
    $('login-server-row').hidden = servers.length === 1 && (!wanted || wanted === servers[0]);
    $('login-server-row').querySelector('label').htmlFor = 'login-server';
    $('login-servers').replaceChildren(...servers.map((s) => el('option', {value: s})));
  }
  $('login-notice').textContent = notice;
  $('login-notice').hidden = !notice;
  $('login-error').hidden = true;
  $('login-pass').value = '';
  closeDialog();
  showView('login');
  const user = $('login-user');
  if (!user.value && state.user) user.value = state.user;
  (user.value ? $('login-pass') : user).focus();
}

function sessionExpired() {
  if (state.view === 'login') return;
  // At start-up (no session yet) a plain login form; later, say what happened.
  showLogin(state.view === 'browse' ? 'Your session has ended. Sign in again to continue where you were.' : '');
}

async function onLogin(ev) {
  ev.preventDefault();
  const username = $('login-user').value.trim();
  const password = $('login-pass').value;
  const sel = $('login-server-select');
  const server = (sel.hidden ? $('login-server').value : sel.value).trim();
  const err = $('login-error');
  err.hidden = true;
  if (!username || !password) {
    err.textContent = 'Enter your user name and password.';
    err.hidden = false;
    (username ? $('login-pass') : $('login-user')).focus();
    return;
  }
  const body = {username, password};
  if (server) body.server = server;
  const btn = $('login-submit');
  btn.disabled = true;
  btn.textContent = 'Signing in…';
  try {
    const res = await fetch(API + '/login', {
      method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: {'Content-Type': 'application/json', ...XRW}, body: JSON.stringify(body),
    });
    if (!res.ok) {
      const e = await errorFrom(res);
      if (res.status === 401) err.textContent = 'Wrong user name or password.';
      else if (e.code === 'unknown_server' || (res.status === 400 && server)) err.textContent = `Unknown server “${server}”. ${e.message}`;
      else err.textContent = `Sign-in failed: ${e.message}`;
      err.hidden = false;
      $('login-pass').select();
      $('login-pass').focus();
      return;
    }
    const j = await res.json();
    state.user = j.user || username;
    state.server = j.server || server;
    sessionStorage.setItem('smbgate.user', state.user);
    sessionStorage.setItem('smbgate.server', state.server);
    $('login-pass').value = '';
    learnServers();
    if (!state.segs.length) {
      // Straight to the shares of the server we logged in to.
      location.hash = hashFor([state.server]);
      return;
    }
    route();
  } catch (e) {
    err.textContent = 'The gateway cannot be reached: ' + e.message;
    err.hidden = false;
  } finally {
    btn.disabled = false;
    btn.textContent = 'Sign in';
  }
}

// Remembers the configured servers' names (not secret) for the login chooser:
// GET /api/v1/servers needs no login.
async function learnServers() {
  try {
    const j = await api('GET', API + '/servers', undefined, {auth: false});
    const names = (j.servers || []).map((e) => e.name).filter((n) => typeof n === 'string');
    localStorage.setItem('smbgate.servers', JSON.stringify(names));
  } catch { /* not important */ }
}

async function onLogout() {
  try {
    await api('POST', API + '/logout', undefined, {auth: false});
  } catch { /* gone anyway */ }
  sessionStorage.removeItem('smbgate.server');
  state.entries = [];
  $('rows').replaceChildren();
  history.replaceState(null, '', location.pathname);
  state.segs = [];
  showLogin('You are signed out.');
}

// ---------------------------------------------------------------- listing
function setMessage(text, kind = '') {
  const m = $('message');
  m.textContent = text;
  m.className = 'message' + (kind ? ' ' + kind : '');
}

function showState(kind, title, text, iconName, action) {
  const s = $('state');
  s.className = 'state is-' + kind;
  $('state-title').textContent = title;
  $('state-text').textContent = text;
  $('state-use').setAttribute('href', 'icons.svg#' + iconName);
  const b = $('state-action');
  b.hidden = !action;
  if (action) {
    b.textContent = action.label;
    b.onclick = action.run;
  }
  s.hidden = false;
}

async function route() {
  state.segs = parseHash();
  const seq = ++state.loadSeq;
  const segs = state.segs;
  state.selected.clear();
  state.filter = '';
  $('filter').value = '';
  document.body.classList.toggle('in-folder', segs.length >= 2);
  renderCrumbs();
  document.title = segs.length ? segs[segs.length - 1] + ' – smbgate' : 'smbgate';
  // Keep the previous rows' space while loading: no jump, just a dimmed table.
  $('table').classList.add('loading');
  let data;
  try {
    data = await api('GET', fsUrl(segs, true));
  } catch (e) {
    if (seq !== state.loadSeq) return;
    if (e.status === 401) return; // login form shown
    showView('browse');
    state.entries = [];
    $('rows').replaceChildren();
    updateSelection();
    showListingError(e);
    return;
  }
  if (seq !== state.loadSeq) return;
  showView('browse');
  state.entries = (data.entries || []).filter((e) => e && typeof e.name === 'string');
  setMessage('');
  render();
  if (document.activeElement === document.body || document.activeElement?.closest?.('#rows, #crumbs')) {
    focusRow(0);
  }
}

const sentence = (m) => (m ? m[0].toUpperCase() + m.slice(1).replace(/\.?$/, '.') : '');

function setFolderActions(enabled) {
  $('btn-upload').disabled = !enabled;
  $('btn-mkdir').disabled = !enabled;
}

function showListingError(e) {
  const segs = state.segs;
  setFolderActions(false);
  const where = segs.length > 1 ? `“${segs[segs.length - 1]}”` : segs.length ? `server “${segs[0]}”` : 'the server list';
  if (e.code === 'access_denied' || (e.status === 403 && e.code !== 'wrong_server')) {
    showState('error', 'Access denied',
      `You (${state.user || 'this account'}) do not have permission to open ${where}. ${sentence(e.message)}`,
      'lock', segs.length ? {label: 'Go up', run: () => { location.hash = hashFor(segs.slice(0, -1)); }} : null);
  } else if (e.code === 'wrong_server') {
    showState('error', 'Signed in to another server',
      `You are signed in to “${state.server}”. To open “${segs[0]}”, sign in to it.`,
      'server', {label: `Sign in to ${segs[0]}`, run: async () => {
        try { await api('POST', API + '/logout', undefined, {auth: false}); } catch { /* ignore */ }
        state.server = segs[0];
        showLogin();
      }});
  } else if (e.code === 'not_found') {
    showState('error', 'Not found', `${where} does not exist (any more).`, 'alert',
      {label: 'Go up', run: () => { location.hash = hashFor(segs.slice(0, -1)); }});
  } else if (e.code === 'not_a_directory') {
    showState('error', 'This is a file', `${where} is a file, not a folder.`, 'file',
      {label: 'Go up', run: () => { location.hash = hashFor(segs.slice(0, -1)); }});
  } else {
    showState('error', e.title, sentence(e.message), 'alert', {label: 'Try again', run: route});
  }
  $('table').classList.remove('loading');
}

function renderCrumbs() {
  const ol = $('crumbs');
  const items = [el('li', {}, el('a', {href: '#/'}, 'Servers'))];
  state.segs.forEach((s, i) => {
    const last = i === state.segs.length - 1;
    items.push(el('li', {}, last
      ? el('span', {'aria-current': 'page'}, s)
      : el('a', {href: hashFor(state.segs.slice(0, i + 1))}, s)));
  });
  if (!state.segs.length) items[0] = el('li', {}, el('span', {'aria-current': 'page'}, 'Servers'));
  ol.replaceChildren(...items);
}

function sorted() {
  const {key, dir} = state.sort;
  const f = state.filter.toLocaleLowerCase();
  const list = f ? state.entries.filter((e) => e.name.toLocaleLowerCase().includes(f)) : state.entries.slice();
  const coll = new Intl.Collator(undefined, {numeric: true, sensitivity: 'base'});
  list.sort((a, b) => {
    const da = a.type === 'dir' ? 0 : 1, db = b.type === 'dir' ? 0 : 1;
    if (da !== db) return da - db;             // folders first, whatever the order
    let c = 0;
    if (key === 'size') c = (a.size || 0) - (b.size || 0);
    else if (key === 'mtime') c = String(a.mtime || '').localeCompare(String(b.mtime || ''));
    if (c === 0) c = coll.compare(a.name, b.name);
    return c * dir;
  });
  return list;
}

// Renders every row in one go (a DocumentFragment): a 2000-entry folder
// appears at once, rows have a fixed height and the table a fixed layout.
function render() {
  const segs = state.segs;
  setFolderActions(true);
  const inFolder = segs.length >= 2;
  const list = sorted();
  const frag = document.createDocumentFragment();
  for (const e of list) {
    const childSegs = [...segs, e.name];
    const isDir = e.type !== 'file';
    const tr = el('tr', {class: e.type, dataset: {name: e.name, type: e.type}});
    if (state.selected.has(e.name)) tr.classList.add('selected');
    const cb = el('input', {type: 'checkbox', class: 'sel', 'aria-label': 'Select ' + e.name});
    cb.checked = state.selected.has(e.name);
    tr.append(el('td', {class: 'c-check'}, inFolder ? cb : null));
    let a;
    if (isDir) {
      a = el('a', {href: hashFor(childSegs), class: 'open'});
    } else {
      const view = VIEWABLE.has(ext(e.name));
      a = el('a', {href: fsUrl(childSegs, false) + (view ? '' : '?download=1'), class: 'open'});
      if (view) { a.target = '_blank'; a.rel = 'noopener'; a.title = 'Open in a new tab'; } else { a.download = e.name; }
    }
    a.append(icon(iconFor(e)), el('span', {}, e.name));
    // A share's comment (set on the file server), quietly beside its name.
    if (e.type === 'share' && e.comment) {
      a.append(el('small', {class: 'comment'}, e.comment));
      a.title = e.comment;
    }
    tr.append(el('td', {class: 'c-name'}, a));
    tr.append(el('td', {class: 'c-size'}, e.type === 'file' ? humanSize(e.size) : ''));
    tr.append(el('td', {class: 'c-mtime', title: e.mtime || ''}, fmtDate(e.mtime)));
    const act = el('td', {class: 'c-act'});
    if (e.type === 'file') {
      const d = el('a', {href: fsUrl(childSegs, false) + '?download=1', class: 'dl', download: e.name,
        'aria-label': 'Download ' + e.name, title: 'Download'});
      d.append(icon('download'));
      act.append(d);
    }
    tr.append(act);
    frag.append(tr);
  }
  $('rows').replaceChildren(frag);
  $('table').classList.remove('loading');
  for (const th of document.querySelectorAll('th[data-key]')) {
    if (th.dataset.key === state.sort.key) th.setAttribute('aria-sort', state.sort.dir > 0 ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
  if (list.length) {
    $('state').hidden = true;
  } else if (state.filter && state.entries.length) {
    showState('empty', 'Nothing matches', `No name here contains “${state.filter}”.`, 'folder');
  } else if (inFolder) {
    showState('empty', 'This folder is empty', 'Upload files with the Upload button or drop them here.', 'folder',
      {label: 'Upload files', run: () => $('file-input').click()});
  } else {
    showState('empty', segs.length ? 'No shares' : 'No servers',
      segs.length ? 'This account can see no share on this server.' : 'The gateway has no server configured.', 'server');
  }
  updateSelection();
}

function focusRow(i) {
  const links = $('rows').querySelectorAll('a.open');
  if (links.length) links[Math.max(0, Math.min(i, links.length - 1))].focus();
}

function updateSelection() {
  // Drop names that are no longer listed.
  const names = new Set(state.entries.map((e) => e.name));
  for (const n of [...state.selected]) if (!names.has(n)) state.selected.delete(n);
  const n = state.selected.size;
  $('btn-rename').disabled = n !== 1;
  $('btn-move').disabled = n === 0;
  $('btn-copy').disabled = n === 0;
  $('btn-delete').disabled = n === 0;
  const visible = $('rows').querySelectorAll('input.sel').length;
  const all = $('check-all');
  all.checked = visible > 0 && n >= visible;
  all.indeterminate = n > 0 && n < visible;
  if (n) setMessage(`${n} selected`);
  else if ($('message').textContent.endsWith(' selected')) setMessage('');
}

// ---------------------------------------------------------------- dialog
let dialogResolve = null;
function closeDialog(value = null) {
  const d = $('dialog');
  if (d.open) d.close();
  if (dialogResolve) { const r = dialogResolve; dialogResolve = null; r(value); }
}
// ask({title, text, list, input, label, ok, danger, validate}) → string (input), true, or null
function ask(o) {
  closeDialog();
  $('dialog-title').textContent = o.title;
  $('dialog-text').textContent = o.text || '';
  $('dialog-text').hidden = !o.text;
  const ul = $('dialog-list');
  ul.replaceChildren(...(o.list || []).map((t) => el('li', {}, t)));
  ul.hidden = !(o.list && o.list.length);
  const input = $('dialog-input'), label = $('dialog-label');
  input.hidden = label.hidden = o.input === undefined;
  input.value = o.input ?? '';
  label.textContent = o.label || '';
  $('dialog-error').hidden = true;
  const ok = $('dialog-ok');
  ok.textContent = o.ok || 'OK';
  ok.className = 'btn ' + (o.danger ? 'primary danger-fill' : 'primary');
  const d = $('dialog');
  d.showModal();
  if (o.input !== undefined) {
    input.focus();
    // Select the name without its extension, like file managers do.
    const dot = o.selectStem ? input.value.lastIndexOf('.') : -1;
    input.setSelectionRange(0, dot > 0 ? dot : input.value.length);
  } else {
    (o.danger ? $('dialog-cancel') : ok).focus();
  }
  return new Promise((resolve) => {
    dialogResolve = resolve;
    d.validate = o.validate;
    d.wantsInput = o.input !== undefined;
  });
}
function dialogSubmit(ev) {
  ev.preventDefault();
  const d = $('dialog');
  if (d.wantsInput) {
    const v = $('dialog-input').value.trim();
    const problem = d.validate ? d.validate(v) : (v ? '' : 'Enter a name.');
    if (problem) {
      $('dialog-error').textContent = problem;
      $('dialog-error').hidden = false;
      return;
    }
    closeDialog(v);
  } else {
    closeDialog(true);
  }
}

const validName = (v) => {
  if (!v) return 'Enter a name.';
  if (v === '.' || v === '..') return 'That name is not allowed.';
  if (/[\\/:*?"<>|\x00-\x1f]/.test(v)) return 'A name cannot contain \\ / : * ? " < > |';
  return '';
};
const validDest = (v) => {
  if (!v.startsWith('/')) return 'Enter a folder of this share, starting with “/” (for example /reports).';
  if (v.split('/').some((s) => s === '.' || s === '..')) return '“.” and “..” are not allowed.';
  return '';
};

// ---------------------------------------------------------------- operations
function selectedEntries() {
  return state.entries.filter((e) => state.selected.has(e.name));
}

async function doMkdir() {
  const name = await ask({title: 'New folder', label: 'Folder name', input: '', ok: 'Create', validate: validName});
  if (name == null) return;
  try {
    await api('POST', fsUrl([...state.segs, name], false), {op: 'mkdir'});
    setMessage(`Folder “${name}” created.`, 'ok');
  } catch (e) {
    if (e.status !== 401) setMessage(`Could not create “${name}”: ${e.title} – ${e.message}`, 'bad');
    return;
  }
  await reload();
}

async function doRename(entry) {
  entry = entry || selectedEntries()[0];
  if (!entry) return;
  const name = await ask({title: `Rename “${entry.name}”`, label: 'New name', input: entry.name,
    ok: 'Rename', validate: validName, selectStem: entry.type === 'file'});
  if (name == null || name === entry.name) return;
  try {
    await api('POST', fsUrl([...state.segs, entry.name], false),
      {op: 'move', to: sharePath([...state.segs, name])});
    setMessage(`Renamed “${entry.name}” to “${name}”.`, 'ok');
  } catch (e) {
    if (e.status !== 401) {
      setMessage(e.code === 'exists' ? `Could not rename: “${name}” already exists.`
        : `Could not rename “${entry.name}”: ${e.title} – ${e.message}`, 'bad');
    }
  }
  await reload();
}

async function doTransfer(op) {
  const items = selectedEntries();
  if (!items.length) return;
  const verb = op === 'move' ? 'Move' : 'Copy';
  const dest = await ask({
    title: `${verb} ${items.length === 1 ? '“' + items[0].name + '”' : items.length + ' items'}`,
    text: `To which folder of the share “${state.segs[1]}”? Paths start at the share's root.`,
    label: 'Destination folder', input: sharePath(state.segs), ok: verb, validate: validDest,
  });
  if (dest == null) return;
  const base = dest.replace(/\/+$/, '');
  let done = 0;
  const failed = [];
  for (const e of items) {
    const to = base + '/' + e.name;
    const url = fsUrl([...state.segs, e.name], false);
    try {
      try {
        await api('POST', url, {op, to});
      } catch (err) {
        if (err.code !== 'exists') throw err;
        const yes = await ask({title: 'Replace?', text: `“${to}” already exists. Replace it?`, ok: 'Replace', danger: true});
        if (!yes) continue;
        await api('POST', url, {op, to, overwrite: true});
      }
      done++;
    } catch (err) {
      if (err.status === 401) return;
      failed.push(`${e.name}: ${err.message}`);
    }
  }
  state.selected.clear();
  setMessage(failed.length ? `${verb} failed for ${failed.join('; ')}` : `${op === 'move' ? 'Moved' : 'Copied'} ${done} item${done === 1 ? '' : 's'} to ${dest}.`,
    failed.length ? 'bad' : 'ok');
  await reload();
}

async function doDelete(list) {
  const items = list || selectedEntries();
  if (!items.length) return;
  const dirs = items.filter((e) => e.type === 'dir').length;
  const ok = await ask({
    title: items.length === 1 ? `Delete “${items[0].name}”?` : `Delete ${items.length} items?`,
    text: dirs ? 'Folders are deleted with everything in them. This cannot be undone.' : 'This cannot be undone.',
    list: items.length > 1 ? items.map((e) => e.name + (e.type === 'dir' ? '/' : '')) : null,
    ok: 'Delete', danger: true,
  });
  if (!ok) return;
  const failed = [];
  let done = 0;
  for (const e of items) {
    try {
      await api('DELETE', fsUrl([...state.segs, e.name], false) + (e.type === 'dir' ? '?recursive=1' : ''));
      done++;
    } catch (err) {
      if (err.status === 401) return;
      failed.push(`${e.name}: ${err.message}`);
    }
  }
  state.selected.clear();
  setMessage(failed.length ? `Could not delete ${failed.join('; ')}` : `Deleted ${done} item${done === 1 ? '' : 's'}.`,
    failed.length ? 'bad' : 'ok');
  await reload();
}

async function reload() {
  const seq = ++state.loadSeq;
  const segs = state.segs;
  try {
    const data = await api('GET', fsUrl(segs, true));
    if (seq !== state.loadSeq) return;
    state.entries = data.entries || [];
    render();
  } catch (e) {
    if (seq === state.loadSeq && e.status !== 401) showListingError(e);
  }
}

// ---------------------------------------------------------------- uploads
const uploads = {queue: [], running: null, segs: null};

function addUploads(files) {
  if (state.segs.length < 2 || !files.length) return;
  const panel = $('uploads');
  panel.hidden = false;
  for (const file of files) {
    const li = el('li', {class: 'waiting'});
    const bar = el('progress', {max: 100, value: 0});
    const text = el('span', {class: 'up-text'}, `waiting – ${humanSize(file.size)}`);
    const cancel = el('button', {type: 'button', class: 'btn small', 'aria-label': 'Cancel upload of ' + file.name}, 'Cancel');
    li.append(el('span', {class: 'up-name', title: file.name}, file.name), cancel, bar, text);
    $('upload-list').append(li);
    const job = {file, segs: [...state.segs], li, bar, text, cancel, xhr: null, cancelled: false};
    cancel.onclick = () => {
      job.cancelled = true;
      if (job.xhr) job.xhr.abort();
      else finishJob(job, 'failed', 'cancelled');
    };
    uploads.queue.push(job);
  }
  updateUploadTitle();
  pumpUploads();
}

function updateUploadTitle() {
  const items = $('upload-list').children.length;
  const left = uploads.queue.length + (uploads.running ? 1 : 0);
  $('uploads-title').textContent = left ? `Uploading ${left} of ${items}…` : `Uploads done (${items})`;
}

function finishJob(job, cls, msg) {
  job.li.className = cls;
  job.text.textContent = msg;
  job.cancel.hidden = true;
  const i = uploads.queue.indexOf(job);
  if (i >= 0) uploads.queue.splice(i, 1);
  updateUploadTitle();
}

function putFile(job, noReplace) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    job.xhr = xhr;
    xhr.open('PUT', fsUrl([...job.segs, job.file.name], false));
    xhr.setRequestHeader('X-Requested-With', 'smbgate');
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

async function pumpUploads() {
  if (uploads.running) return;
  const job = uploads.queue.shift();
  if (!job) {
    updateUploadTitle();
    if (state.segs.join('/') === (uploads.lastSegs || []).join('/')) await reload();
    return;
  }
  uploads.running = job;
  uploads.lastSegs = job.segs;
  updateUploadTitle();
  let r = await putFile(job, true);
  if (r.status === 412 && !job.cancelled) {
    job.text.textContent = 'already exists – replace?';
    const yes = await ask({title: 'Replace file?', text: `“${job.file.name}” already exists in this folder. Replace it with the file you are uploading?`,
      ok: 'Replace', danger: true});
    r = yes ? await putFile(job, false) : {status: -2};
  }
  const msg = errorText(r);
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

function errorText(r) {
  if (r.status === -1) return 'cancelled';
  if (r.status === -2) return 'skipped (not replaced)';
  if (r.status === 0) return 'failed: the connection was lost';
  try {
    const j = JSON.parse(r.body);
    if (j.error) return `failed: ${CODE_TEXT[j.error.code] ? CODE_TEXT[j.error.code] + ' – ' : ''}${j.error.message}`;
  } catch { /* not JSON */ }
  return `failed (HTTP ${r.status})`;
}

// ---------------------------------------------------------------- events
function rowOf(node) { return node?.closest?.('#rows tr') || null; }
function entryOf(tr) { return tr && state.entries.find((e) => e.name === tr.dataset.name); }

function wire() {
  $('login-form').addEventListener('submit', onLogin);
  $('logout').addEventListener('click', onLogout);
  window.addEventListener('hashchange', route);

  $('filter').addEventListener('input', (ev) => { state.filter = ev.target.value; render(); });
  $('filter').addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown') { ev.preventDefault(); focusRow(0); }
    if (ev.key === 'Escape' && ev.target.value) { ev.target.value = ''; state.filter = ''; render(); }
  });

  for (const th of document.querySelectorAll('th[data-key]')) {
    th.querySelector('button').addEventListener('click', () => {
      const key = th.dataset.key;
      state.sort = {key, dir: state.sort.key === key ? -state.sort.dir : 1};
      render();
    });
  }

  $('rows').addEventListener('change', (ev) => {
    if (!ev.target.matches('input.sel')) return;
    const tr = rowOf(ev.target);
    if (ev.target.checked) state.selected.add(tr.dataset.name);
    else state.selected.delete(tr.dataset.name);
    tr.classList.toggle('selected', ev.target.checked);
    updateSelection();
  });
  $('check-all').addEventListener('change', (ev) => {
    for (const cb of $('rows').querySelectorAll('input.sel')) {
      cb.checked = ev.target.checked;
      const tr = rowOf(cb);
      tr.classList.toggle('selected', cb.checked);
      if (cb.checked) state.selected.add(tr.dataset.name);
      else state.selected.delete(tr.dataset.name);
    }
    updateSelection();
  });

  // Keyboard: arrows move between rows, Space selects, Delete deletes
  // (the selection, or the focused row), F2 renames.
  $('rows').addEventListener('keydown', (ev) => {
    const tr = rowOf(ev.target);
    if (!tr) return;
    const rows = [...$('rows').children];
    const i = rows.indexOf(tr);
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      const next = rows[i + (ev.key === 'ArrowDown' ? 1 : -1)];
      next?.querySelector('a.open')?.focus();
    } else if (ev.key === ' ' && ev.target.matches('a.open') && state.segs.length >= 2) {
      ev.preventDefault();
      const cb = tr.querySelector('input.sel');
      cb.checked = !cb.checked;
      cb.dispatchEvent(new Event('change', {bubbles: true}));
    } else if (ev.key === 'F2' && state.segs.length >= 2) {
      ev.preventDefault();
      doRename(entryOf(tr));
    }
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Delete' || state.view !== 'browse' || state.segs.length < 2 || $('dialog').open) return;
    if (ev.target.matches?.('input:not([type=checkbox]), textarea, select')) return;
    if (state.selected.size) { ev.preventDefault(); doDelete(); return; }
    const e = entryOf(rowOf(document.activeElement));
    if (e) { ev.preventDefault(); doDelete([e]); }
  });

  $('btn-upload').addEventListener('click', () => $('file-input').click());
  $('file-input').addEventListener('change', (ev) => {
    addUploads([...ev.target.files]);
    ev.target.value = '';
  });
  $('uploads-close').addEventListener('click', () => {
    $('uploads').hidden = true;
    for (const li of [...$('upload-list').children]) if (li.matches('.done, .failed')) li.remove();
  });
  $('btn-mkdir').addEventListener('click', doMkdir);
  $('btn-rename').addEventListener('click', () => doRename());
  $('btn-move').addEventListener('click', () => doTransfer('move'));
  $('btn-copy').addEventListener('click', () => doTransfer('copy'));
  $('btn-delete').addEventListener('click', () => doDelete());

  // Drag and drop of files onto the listing.
  const zone = $('drop-zone');
  let depth = 0;
  const hasFiles = (ev) => [...(ev.dataTransfer?.types || [])].includes('Files');
  zone.addEventListener('dragenter', (ev) => {
    if (!hasFiles(ev) || state.segs.length < 2) return;
    ev.preventDefault();
    depth++;
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragover', (ev) => {
    if (!hasFiles(ev) || state.segs.length < 2) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = 'copy';
  });
  zone.addEventListener('dragleave', () => {
    if (--depth <= 0) { depth = 0; zone.classList.remove('dragging'); }
  });
  zone.addEventListener('drop', (ev) => {
    depth = 0;
    zone.classList.remove('dragging');
    if (!hasFiles(ev) || state.segs.length < 2) return;
    ev.preventDefault();
    addUploads([...ev.dataTransfer.files]);
  });
  // A file dropped beside the zone must not navigate away from the app.
  window.addEventListener('dragover', (ev) => { if (hasFiles(ev)) ev.preventDefault(); });
  window.addEventListener('drop', (ev) => { if (hasFiles(ev)) ev.preventDefault(); });

  $('dialog-form').addEventListener('submit', dialogSubmit);
  $('dialog-cancel').addEventListener('click', () => closeDialog(null));
  $('dialog').addEventListener('cancel', (ev) => { ev.preventDefault(); closeDialog(null); });

  window.addEventListener('beforeunload', (ev) => {
    if (uploads.running || uploads.queue.length) ev.preventDefault();
  });
}

wire();
learnServers().finally(route);
