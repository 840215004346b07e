// smbgate web UI: the page's state, owned here and changed only through these
// functions: where we are (the location's segments), the listing (entries,
// sort order, filter, selection), which load is the latest, who is signed in
// (kept in sessionStorage for a reload) and which view is shown.
// No DOM: the other modules read the state and render it. The listing's
// order (sorted, filtered) comes from keys computed once per listing
// (order.js), so a keystroke in the filter or a click on a column costs no
// more than comparing numbers or testing substrings.

import {filterOrder, indexEntries, sortedOrder} from './order.js';

const s = {
  segs: Object.freeze([]),   // [server, share, ...dirs]
  entries: [],               // the current listing, as the API gave it
  byName: new Map(),         // name -> index in entries
  index: null,               // entries' keys (order.js), made when first needed
  sort: Object.freeze({key: 'name', dir: 1}),
  filter: '',
  selected: new Set(),       // names of ticked entries
  loadSeq: 0,
  user: sessionStorage.getItem('smbgate.user') || '',
  server: sessionStorage.getItem('smbgate.server') || '',
  view: null,                // 'login' | 'browse'
};

// ---------------------------------------------------------------- location
export const getSegs = () => s.segs;
export function setSegs(segs) { s.segs = Object.freeze([...segs]); }
// In a share or one of its folders (where files are), not in the server or
// share lists.
export const inFolder = () => s.segs.length >= 2;

// ---------------------------------------------------------------- listing
export const getEntries = () => s.entries;
// A new listing; ticked names that are no longer listed are dropped.
export function setEntries(entries) {
  s.entries = entries;
  s.index = null;
  s.byName = new Map(entries.map((e, i) => [e.name, i]));
  for (const n of [...s.selected]) if (!s.byName.has(n)) s.selected.delete(n);
}
export const entryNamed = (name) => s.entries[s.byName.get(name)];
// The entries shown, in the order shown: indexes into getEntries() (an
// Int32Array the caller must not change), sorted and filtered.
export function getOrder() {
  if (!s.index) s.index = indexEntries(s.entries);
  return filterOrder(s.index, sortedOrder(s.index, s.sort), s.filter);
}

export const getSort = () => s.sort;
// Sorts by `key`; the same key again reverses the direction.
export function toggleSort(key) {
  s.sort = Object.freeze({key, dir: s.sort.key === key ? -s.sort.dir : 1});
}

export const getFilter = () => s.filter;
export function setFilter(text) { s.filter = text; }

// ---------------------------------------------------------------- selection
export const isSelected = (name) => s.selected.has(name);
export function setSelected(name, on) {
  if (on) s.selected.add(name);
  else s.selected.delete(name);
}
export function clearSelection() { s.selected.clear(); }
export const selectedCount = () => s.selected.size;
export const selectedEntries = () => s.entries.filter((e) => s.selected.has(e.name));

// ---------------------------------------------------------------- loads
// Each listing request takes a number; only the latest one's answer is shown.
export const newLoad = () => ++s.loadSeq;
export const isLatestLoad = (seq) => seq === s.loadSeq;

// ---------------------------------------------------------------- session
export const getUser = () => s.user;
export const getServer = () => s.server;
// After a login: who, on which server (also kept for a reload of the page).
export function signedIn(user, server) {
  s.user = user;
  s.server = server;
  sessionStorage.setItem('smbgate.user', user);
  sessionStorage.setItem('smbgate.server', server);
}
// The server the login form proposes next (not kept for a reload).
export function setServer(server) { s.server = server; }
// After a logout: a reload of the page no longer knows the server.
export function forgetServer() { sessionStorage.removeItem('smbgate.server'); }

// ---------------------------------------------------------------- view
export const getView = () => s.view;
export function setView(v) { s.view = v; }
