// smbgate web UI: the listing of the current location: the table's rows,
// sort headers, filter, ticks and the selection's buttons, breadcrumbs, the
// status message and the big empty/error state in place of rows. It reads the
// state (state.js) and renders it; it loads nothing itself (router.js does).
//
// Only the rows in sight (and a few around) are in the page: rows have one
// fixed height, two spacer row groups above and below stand for the others,
// and scrolling gives the same row elements other entries. A folder of
// 100 000 entries costs the page a few dozen rows. The table is an ARIA grid:
// aria-rowcount tells how many rows there are, aria-rowindex where each row
// in the page stands. The cursor is the position (in the order shown) of the
// row last focused; when its row scrolls out of the page the listing itself
// keeps the focus, and the keyboard goes on from the cursor (keyboard.js).

import {$, el, icon} from './dom.js';
import {dateFormatter, fsUrl, hashFor, humanSize, iconFor, isViewable} from './util.js';
import * as state from './state.js';

const fmtDate = dateFormatter();

export function setMessage(text, kind = '') {
  const m = $('message');
  m.textContent = text;
  m.className = 'message' + (kind ? ' ' + kind : '');
}

// The big notice in place of the rows: kind 'empty' or 'error', an icon of
// icons.svg, and an optional button {label, run}.
export function showState(kind, title, text, iconName, action) {
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

export function setFolderActions(enabled) {
  $('btn-upload').disabled = !enabled;
  $('btn-mkdir').disabled = !enabled;
}

// While a listing loads the previous rows keep their space: no jump, just a
// dimmed table.
export function setLoading(on) { $('table').classList.toggle('loading', on); }


export function renderCrumbs() {
  const segs = state.getSegs();
  const ol = $('crumbs');
  const items = [el('li', {}, el('a', {href: '#/'}, 'Servers'))];
  segs.forEach((s, i) => {
    const last = i === segs.length - 1;
    items.push(el('li', {}, last
      ? el('span', {'aria-current': 'page'}, s)
      : el('a', {href: hashFor(segs.slice(0, i + 1))}, s)));
  });
  if (!segs.length) items[0] = el('li', {}, el('span', {'aria-current': 'page'}, 'Servers'));
  ol.replaceChildren(...items);
}

// ---------------------------------------------------------------- rows
// Rows drawn beyond the visible ones, above and below (smooth scrolling,
// keyboard moves without waiting for a draw).
const OVERSCAN = 8;

const V = {
  order: new Int32Array(0), // the entries shown (indexes, state.getOrder())
  entries: [],              // state.getEntries() when drawn
  segs: null,               // the location drawn (a new one scrolls to the top)
  inFolder: false,
  first: 0, last: 0,        // positions of the rows in the page: [first, last)
  rowH: 40, headH: 40,      // measured after each full draw
  cursor: 0,                // position of the row last focused
  anchor: -1,               // entry index of the last tick (Shift ranges start there)
  shift: false,             // the last click on a tick had Shift down
};

const scroller = () => $('drop-zone');

function newRow() {
  const cb = el('input', {type: 'checkbox', class: 'sel'});
  const a = el('a', {class: 'open'}, icon('file'), el('span'), el('small', {class: 'comment'}));
  const dl = el('a', {class: 'dl', title: 'Download'}, icon('download'));
  return el('tr', {},
    el('td', {class: 'c-check'}, cb), el('td', {class: 'c-name'}, a), el('td', {class: 'c-size'}),
    el('td', {class: 'c-mtime'}), el('td', {class: 'c-act'}, dl));
}

const setAttr = (node, k, v) => (v == null ? node.removeAttribute(k) : node.setAttribute(k, v));

// Shows the entry at position `p` of the order in the row `tr`. A row that
// had the focus and now shows another entry hands the focus to the listing.
function bind(tr, p) {
  const i = V.order[p], e = V.entries[i];
  if (tr.contains(document.activeElement) && tr.smbIndex !== i) scroller().focus({preventScroll: true});
  tr.smbIndex = i;
  const selected = V.inFolder && state.isSelected(e.name);
  tr.className = e.type + (selected ? ' selected' : '');
  tr.dataset.name = e.name;
  tr.dataset.type = e.type;
  tr.setAttribute('aria-rowindex', p + 2);
  setAttr(tr, 'aria-selected', V.inFolder ? String(selected) : null);
  const [cCheck, cName, cSize, cMtime, cAct] = tr.children;
  const cb = cCheck.firstChild;
  cb.hidden = !V.inFolder;
  cb.checked = selected;
  cb.setAttribute('aria-label', 'Select ' + e.name);
  const childSegs = [...V.segs, e.name];
  const a = cName.firstChild;
  const [svg, span, small] = a.children;
  svg.firstChild.setAttribute('href', 'icons.svg#' + iconFor(e));
  span.textContent = e.name;
  // A share's comment (set on the file server), quietly beside its name.
  const comment = e.type === 'share' && e.comment ? String(e.comment) : '';
  small.textContent = comment;
  small.hidden = !comment;
  if (e.type !== 'file') {
    a.href = hashFor(childSegs);
    setAttr(a, 'target', null); setAttr(a, 'rel', null); setAttr(a, 'download', null);
    setAttr(a, 'title', comment || null);
  } else if (isViewable(e.name)) {
    a.href = fsUrl(childSegs, false);
    a.target = '_blank'; a.rel = 'noopener'; a.title = 'Open in a new tab';
    setAttr(a, 'download', null);
  } else {
    a.href = fsUrl(childSegs, false) + '?download=1';
    a.download = e.name;
    setAttr(a, 'target', null); setAttr(a, 'rel', null); setAttr(a, 'title', null);
  }
  cSize.textContent = e.type === 'file' ? humanSize(e.size) : '';
  cMtime.textContent = fmtDate(e.mtime);
  setAttr(cMtime, 'title', e.mtime || '');
  const dl = cAct.firstChild;
  dl.hidden = e.type !== 'file';
  if (e.type === 'file') {
    dl.href = fsUrl(childSegs, false) + '?download=1';
    dl.download = e.name;
    dl.setAttribute('aria-label', 'Download ' + e.name);
  }
}

// Just the tick of the rows in the page (after a change of the selection).
function refreshTicks() {
  for (const tr of $('rows').children) {
    const on = V.inFolder && state.isSelected(V.entries[tr.smbIndex].name);
    tr.classList.toggle('selected', on);
    tr.children[0].firstChild.checked = on;
    if (V.inFolder) tr.setAttribute('aria-selected', String(on));
  }
}

// Draws the rows in sight: the rows that still show the same positions stay
// as they are, the others take the entries that came into sight. `force`
// draws every row again (a new order, new entries).
function paint(force) {
  const sc = scroller(), tbody = $('rows');
  const n = V.order.length;
  const top = Math.max(0, sc.scrollTop - V.headH);
  const first = Math.min(n, Math.max(0, Math.floor(top / V.rowH) - OVERSCAN));
  const last = Math.min(n, Math.ceil((top + (sc.clientHeight || 800)) / V.rowH) + OVERSCAN);
  if (!force && first === V.first && last === V.last) return;
  const old = [...tbody.children];
  const keep = new Map();
  if (!force) old.forEach((tr, k) => { if (V.first + k >= first && V.first + k < last) keep.set(V.first + k, tr); });
  const kept = new Set(keep.values());
  const free = old.filter((tr) => !kept.has(tr));
  const want = [];
  for (let p = first; p < last; p++) {
    let tr = keep.get(p);
    if (!tr) {
      tr = free.shift() || newRow();
      bind(tr, p);
    }
    want.push(tr);
  }
  for (const tr of free) {
    if (tr.contains(document.activeElement)) sc.focus({preventScroll: true});
    tr.remove();
  }
  // In order, moving only the rows that changed place.
  let cur = tbody.firstChild;
  for (const tr of want) {
    if (tr === cur) cur = cur.nextSibling;
    else tbody.insertBefore(tr, cur);
  }
  V.first = first;
  V.last = last;
  setPad('pad-top', first * V.rowH);
  setPad('pad-bottom', (n - last) * V.rowH);
}

function setPad(id, px) {
  const g = $(id);
  g.hidden = px <= 0;
  g.firstElementChild.style.height = px + 'px';
}

// The row height and the header's, from the page (phone and desktop layouts
// may differ): when they are not what the last draw assumed, draw again.
function measure() {
  const tr = $('rows').firstElementChild;
  const head = $('table').tHead?.getBoundingClientRect().height;
  const h = tr?.getBoundingClientRect().height;
  let changed = false;
  if (head && Math.abs(head - V.headH) > 0.01) { V.headH = head; changed = true; }
  if (h && Math.abs(h - V.rowH) > 0.01) { V.rowH = h; changed = true; }
  if (changed) paint(true);
}

// No rows at all (a listing that failed, the login form).
export function clearRows() {
  V.order = new Int32Array(0);
  V.entries = [];
  V.first = V.last = 0;
  $('rows').replaceChildren();
  setPad('pad-top', 0);
  setPad('pad-bottom', 0);
  $('table').setAttribute('aria-rowcount', '1');
}

// Draws the listing of the state: its order, the rows in sight, the sort
// headers, the empty state and the selection's buttons. A new location
// starts at the top.
export function render() {
  const segs = state.getSegs();
  const sort = state.getSort(), filter = state.getFilter(), entries = state.getEntries();
  setFolderActions(true);
  V.inFolder = state.inFolder();
  V.entries = entries;
  V.order = state.getOrder();
  if (segs !== V.segs) {
    V.segs = segs;
    V.cursor = 0;
    V.anchor = -1;
    scroller().scrollTop = 0;
  }
  const table = $('table');
  table.setAttribute('aria-rowcount', String(V.order.length + 1));
  setAttr(table, 'aria-multiselectable', V.inFolder ? 'true' : null);
  paint(true);
  measure();
  setLoading(false);
  for (const th of document.querySelectorAll('th[data-key]')) {
    if (th.dataset.key === sort.key) th.setAttribute('aria-sort', sort.dir > 0 ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
  if (V.order.length) {
    $('state').hidden = true;
  } else if (filter && entries.length) {
    showState('empty', 'Nothing matches', `No name here contains “${filter}”.`, 'folder');
  } else if (V.inFolder) {
    showState('empty', 'This folder is empty', 'Upload files with the Upload button or drop them here.', 'folder',
      {label: 'Upload files', run: () => $('file-input').click()});
  } else {
    showState('empty', segs.length ? 'No shares' : 'No servers',
      segs.length ? 'This account can see no share on this server.' : 'The gateway has no server configured.', 'server');
  }
  updateSelection();
}

// ---------------------------------------------------------------- positions
// How many rows there are, and how many fit in sight.
export const rowCount = () => V.order.length;
export const pageRows = () => Math.max(1, Math.floor((scroller().clientHeight - V.headH) / V.rowH));

// The position of a row in the order shown.
export function posOf(tr) {
  const k = Array.prototype.indexOf.call($('rows').children, tr);
  return k < 0 ? -1 : V.first + k;
}
// The entry at position `p`, or undefined.
export const entryAt = (p) => (p >= 0 && p < V.order.length ? V.entries[V.order[p]] : undefined);
// The cursor's position (clamped to the rows there are).
export const cursor = () => Math.max(0, Math.min(V.cursor, V.order.length - 1));

// Scrolls so that the row at position `p` is in sight (below the sticky
// header) and draws; its row element, or null.
function reveal(p) {
  const sc = scroller();
  const top = V.headH + p * V.rowH;
  if (top - V.headH < sc.scrollTop) sc.scrollTop = p * V.rowH;
  else if (top + V.rowH > sc.scrollTop + sc.clientHeight) sc.scrollTop = top + V.rowH - sc.clientHeight;
  paint(false);
  return $('rows').children[p - V.first] || null;
}

// Focuses the row at position `i` (clamped), scrolling it into sight.
export function focusRow(i) {
  const n = V.order.length;
  if (!n) return;
  V.cursor = Math.max(0, Math.min(i, n - 1));
  reveal(V.cursor)?.querySelector('a.open')?.focus({preventScroll: true});
}

// The row of a node inside it, and the entry a row shows.
export function rowOf(node) { return node?.closest?.('#rows tr') || null; }
export function entryOf(tr) { return tr ? V.entries[tr.smbIndex] : undefined; }
// The entry the keyboard is on: the focused row's, or the cursor's when the
// listing itself has the focus (its row scrolled away).
export function focusedEntry() {
  const a = document.activeElement;
  if (a === scroller()) return entryAt(cursor());
  return entryOf(rowOf(a));
}

// Ticks (or unticks) the entry at position `p`; with `range`, every entry
// from the last one ticked to this one. The new anchor is `p`'s entry.
export function tickAt(p, on, range) {
  const e = entryAt(p);
  if (!e || !V.inFolder) return;
  let from = p;
  if (range && V.anchor >= 0) {
    const a = V.order.indexOf(V.anchor);
    if (a >= 0) from = a;
  }
  for (let q = Math.min(from, p); q <= Math.max(from, p); q++) state.setSelected(entryAt(q).name, on);
  V.anchor = V.order[p];
  refreshTicks();
  updateSelection();
}

// The selection's buttons, the "select all" box and the "N selected" message.
export function updateSelection() {
  const n = state.selectedCount();
  $('btn-rename').disabled = n !== 1;
  $('btn-move').disabled = n === 0;
  $('btn-copy').disabled = n === 0;
  $('btn-delete').disabled = n === 0;
  let shown = 0;
  if (n) for (const i of V.order) if (state.isSelected(V.entries[i].name)) shown++;
  const all = $('check-all');
  all.checked = V.order.length > 0 && shown === V.order.length;
  all.indeterminate = n > 0 && !all.checked;
  if (n) setMessage(`${n} selected`);
  else if ($('message').textContent.endsWith(' selected')) setMessage('');
}

// The filter box, the sort headers, the ticks and the scrolling.
export function wireListing() {
  $('filter').addEventListener('input', (ev) => {
    state.setFilter(ev.target.value);
    scroller().scrollTop = 0;
    render();
  });

  for (const th of document.querySelectorAll('th[data-key]')) {
    th.querySelector('button').addEventListener('click', () => {
      state.toggleSort(th.dataset.key);
      scroller().scrollTop = 0;
      render();
    });
  }

  const rows = $('rows');
  // A click on a tick says whether Shift was down; its change then ticks the
  // range (click comes before change).
  rows.addEventListener('click', (ev) => {
    if (ev.target.matches('input.sel')) V.shift = ev.shiftKey;
  });
  rows.addEventListener('change', (ev) => {
    if (!ev.target.matches('input.sel')) return;
    const p = posOf(rowOf(ev.target));
    V.cursor = p;
    tickAt(p, ev.target.checked, V.shift);
    V.shift = false;
  });
  // The cursor follows the focus.
  rows.addEventListener('focusin', (ev) => {
    const p = posOf(rowOf(ev.target));
    if (p >= 0) V.cursor = p;
  });
  $('check-all').addEventListener('change', (ev) => {
    for (const i of V.order) state.setSelected(V.entries[i].name, ev.target.checked);
    refreshTicks();
    updateSelection();
  });

  const sc = scroller();
  sc.addEventListener('scroll', () => paint(false), {passive: true});
  new ResizeObserver(() => { if (V.order.length) { paint(false); measure(); } }).observe(sc);
}
