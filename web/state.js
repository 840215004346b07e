// smbgate web UI: the page's state, owned here and changed only through these
// functions: where we are (the location's segments), the listing (entries,
// sort order, filter, selection), which load is the latest, who is signed in
// (kept in sessionStorage for a reload) and which view is shown.
// No DOM: the other modules read the state and render it.

const s = {
  segs: Object.freeze([]),   // [server, share, ...dirs]
  entries: [],               // the current listing, as the API gave it
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
  const names = new Set(entries.map((e) => e.name));
  for (const n of [...s.selected]) if (!names.has(n)) s.selected.delete(n);
}
export const entryNamed = (name) => s.entries.find((e) => e.name === name);

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
