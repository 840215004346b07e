// smbgate web UI: the listing of the current location: the table's rows
// (every row rendered in one go), sort headers, filter, ticks and the
// selection's buttons, breadcrumbs, the status message and the big
// empty/error state in place of rows. It reads the state (state.js) and
// renders it; it loads nothing itself (router.js does).

import {$, el, icon} from './dom.js';
import {dateFormatter, fsUrl, hashFor, humanSize, iconFor, isViewable, filterEntries, sortEntries} from './util.js';
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

export function clearRows() { $('rows').replaceChildren(); }

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

function row(e, segs, inFolder) {
  const childSegs = [...segs, e.name];
  const isDir = e.type !== 'file';
  const tr = el('tr', {class: e.type, dataset: {name: e.name, type: e.type}});
  const selected = state.isSelected(e.name);
  if (selected) tr.classList.add('selected');
  const cb = el('input', {type: 'checkbox', class: 'sel', 'aria-label': 'Select ' + e.name});
  cb.checked = selected;
  tr.append(el('td', {class: 'c-check'}, inFolder ? cb : null));
  let a;
  if (isDir) {
    a = el('a', {href: hashFor(childSegs), class: 'open'});
  } else {
    const view = isViewable(e.name);
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
  return tr;
}

// Renders every row in one go (a DocumentFragment): a 2000-entry folder
// appears at once, rows have a fixed height and the table a fixed layout.
export function render() {
  const segs = state.getSegs();
  const sort = state.getSort(), filter = state.getFilter(), entries = state.getEntries();
  setFolderActions(true);
  const inFolder = state.inFolder();
  const list = sortEntries(filterEntries(entries, filter), sort);
  const frag = document.createDocumentFragment();
  for (const e of list) frag.append(row(e, segs, inFolder));
  $('rows').replaceChildren(frag);
  setLoading(false);
  for (const th of document.querySelectorAll('th[data-key]')) {
    if (th.dataset.key === sort.key) th.setAttribute('aria-sort', sort.dir > 0 ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
  if (list.length) {
    $('state').hidden = true;
  } else if (filter && entries.length) {
    showState('empty', 'Nothing matches', `No name here contains “${filter}”.`, 'folder');
  } else if (inFolder) {
    showState('empty', 'This folder is empty', 'Upload files with the Upload button or drop them here.', 'folder',
      {label: 'Upload files', run: () => $('file-input').click()});
  } else {
    showState('empty', segs.length ? 'No shares' : 'No servers',
      segs.length ? 'This account can see no share on this server.' : 'The gateway has no server configured.', 'server');
  }
  updateSelection();
}

export function focusRow(i) {
  const links = $('rows').querySelectorAll('a.open');
  if (links.length) links[Math.max(0, Math.min(i, links.length - 1))].focus();
}

// Focuses the row `step` rows after `tr` (-1: the one before), if there is one.
export function focusNextRow(tr, step) {
  const rows = [...$('rows').children];
  rows[rows.indexOf(tr) + step]?.querySelector('a.open')?.focus();
}

// The row of a node inside it, and the entry a row shows.
export function rowOf(node) { return node?.closest?.('#rows tr') || null; }
export function entryOf(tr) { return tr && state.entryNamed(tr.dataset.name); }

// The selection's buttons, the "select all" box and the "N selected" message.
export function updateSelection() {
  const n = state.selectedCount();
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

function tick(tr, on) {
  state.setSelected(tr.dataset.name, on);
  tr.classList.toggle('selected', on);
}

// The filter box, the sort headers and the ticks.
export function wireListing() {
  $('filter').addEventListener('input', (ev) => { state.setFilter(ev.target.value); render(); });

  for (const th of document.querySelectorAll('th[data-key]')) {
    th.querySelector('button').addEventListener('click', () => {
      state.toggleSort(th.dataset.key);
      render();
    });
  }

  $('rows').addEventListener('change', (ev) => {
    if (!ev.target.matches('input.sel')) return;
    tick(rowOf(ev.target), ev.target.checked);
    updateSelection();
  });
  $('check-all').addEventListener('change', (ev) => {
    for (const cb of $('rows').querySelectorAll('input.sel')) {
      cb.checked = ev.target.checked;
      tick(rowOf(cb), cb.checked);
    }
    updateSelection();
  });
}
