// smbgate web UI: the router. The location is the hash, "#/server/share/dir"
// with each segment percent-encoded, so back/forward, reload and bookmarks
// work. route() follows the hash: it loads the listing of that location and
// has it rendered, or shows why it cannot be listed; reload() lists the same
// location again after a change.

import {$} from './dom.js';
import {list, logout} from './api.js';
import {hashFor, parseHash, sentence} from './util.js';
import * as state from './state.js';
import {clearRows, focusRow, render, renderCrumbs, setFolderActions, setLoading, setMessage, showState, updateSelection} from './listing.js';
import {showLogin, showView} from './login.js';

const goUp = (segs) => () => { location.hash = hashFor(segs.slice(0, -1)); };

export async function route() {
  state.setSegs(parseHash(location.hash));
  const seq = state.newLoad();
  const segs = state.getSegs();
  state.clearSelection();
  state.setFilter('');
  $('filter').value = '';
  document.body.classList.toggle('in-folder', state.inFolder());
  renderCrumbs();
  document.title = segs.length ? segs[segs.length - 1] + ' – smbgate' : 'smbgate';
  setLoading(true);
  let data;
  try {
    data = await list(segs);
  } catch (e) {
    if (!state.isLatestLoad(seq)) return;
    if (e.status === 401) return; // login form shown
    showView('browse');
    state.setEntries([]);
    clearRows();
    updateSelection();
    showListingError(e);
    return;
  }
  if (!state.isLatestLoad(seq)) return;
  showView('browse');
  state.setEntries((data.entries || []).filter((e) => e && typeof e.name === 'string'));
  setMessage('');
  render();
  if (document.activeElement === document.body || document.activeElement?.closest?.('#rows, #crumbs')) {
    focusRow(0);
  }
}

// Lists the current location again (after an upload or a file operation).
export async function reload() {
  const seq = state.newLoad();
  const segs = state.getSegs();
  try {
    const data = await list(segs);
    if (!state.isLatestLoad(seq)) return;
    state.setEntries(data.entries || []);
    render();
  } catch (e) {
    if (state.isLatestLoad(seq) && e.status !== 401) showListingError(e);
  }
}

function showListingError(e) {
  const segs = state.getSegs();
  setFolderActions(false);
  const where = segs.length > 1 ? `“${segs[segs.length - 1]}”` : segs.length ? `server “${segs[0]}”` : 'the server list';
  if (e.code === 'access_denied' || (e.status === 403 && e.code !== 'wrong_server')) {
    showState('error', 'Access denied',
      `You (${state.getUser() || 'this account'}) do not have permission to open ${where}. ${sentence(e.message)}`,
      'lock', segs.length ? {label: 'Go up', run: goUp(segs)} : null);
  } else if (e.code === 'wrong_server') {
    showState('error', 'Signed in to another server',
      `You are signed in to “${state.getServer()}”. To open “${segs[0]}”, sign in to it.`,
      'server', {label: `Sign in to ${segs[0]}`, run: async () => {
        try { await logout(); } catch { /* ignore */ }
        state.setServer(segs[0]);
        showLogin();
      }});
  } else if (e.code === 'not_found') {
    showState('error', 'Not found', `${where} does not exist (any more).`, 'alert',
      {label: 'Go up', run: goUp(segs)});
  } else if (e.code === 'not_a_directory') {
    showState('error', 'This is a file', `${where} is a file, not a folder.`, 'file',
      {label: 'Go up', run: goUp(segs)});
  } else {
    showState('error', e.title, sentence(e.message), 'alert', {label: 'Try again', run: route});
  }
  setLoading(false);
}
