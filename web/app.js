// smbgate web UI: the entry module (index.html loads it). ES modules served
// by the gateway as they are: no framework, no build step. It connects the
// modules and starts: learn the servers' names for the login form, then
// follow the location hash.
//
//   util.js      pure helpers (paths, sizes, dates, sorting, filtering, names)
//   dom.js       $, el, icon
//   state.js     the page's state, behind small functions
//   api.js       the REST API client
//   dialog.js    the modal dialog (ask)
//   listing.js   the table of the current folder, selection, messages
//   router.js    the location hash → a listing (route, reload)
//   login.js     sign in, sign out, the login/browse views
//   actions.js   new folder, rename, move, copy, delete
//   upload.js    the upload queue, progress, drag and drop
//   tus.js       resumable uploads (tus 1.0) for big files
//   bulk.js      download as zip, search in this folder and below
//   keyboard.js  keyboard shortcuts

import {$} from './dom.js';
import {onUnauthorized} from './api.js';
import {wireDialog} from './dialog.js';
import {wireListing} from './listing.js';
import {route} from './router.js';
import {learnServers, sessionExpired, wireLogin} from './login.js';
import {doDelete, doMkdir, doRename, doTransfer} from './actions.js';
import {wireUploads} from './upload.js';
import {wireBulk} from './bulk.js';
import {wireKeyboard} from './keyboard.js';

onUnauthorized(sessionExpired);
wireLogin(route);
window.addEventListener('hashchange', route);
wireListing();
wireKeyboard();
wireUploads();
wireBulk();
$('btn-mkdir').addEventListener('click', doMkdir);
$('btn-rename').addEventListener('click', () => doRename());
$('btn-move').addEventListener('click', () => doTransfer('move'));
$('btn-copy').addEventListener('click', () => doTransfer('copy'));
$('btn-delete').addEventListener('click', () => doDelete());
wireDialog();

learnServers().finally(route);
