// smbgate web UI: signing in and out, and the switch between the sign-in view
// and the browse view. The login form offers the servers the gateway named
// earlier (their names, not secret, kept in localStorage); the password goes
// in the login request body and is never stored.

import {$, el} from './dom.js';
import {errorFrom, loginRequest, logout, serverNames} from './api.js';
import {hashFor} from './util.js';
import * as state from './state.js';
import {closeDialog} from './dialog.js';
import {clearRows} from './listing.js';

// 'login' or 'browse'.
export function showView(v) {
  state.setView(v);
  document.body.classList.remove('booting');
  $('login-view').hidden = v !== 'login';
  $('browse-view').hidden = v !== 'browse';
  $('who').hidden = v !== 'browse';
  if (v === 'browse') {
    const user = state.getUser(), server = state.getServer();
    $('who-text').textContent = user ? `${user}${server ? ' @ ' + server : ''}` : '';
  }
  document.dispatchEvent(new CustomEvent('smbgate:view', {detail: v}));
}

function knownServers() {
  try {
    const l = JSON.parse(localStorage.getItem('smbgate.servers') || '[]');
    return Array.isArray(l) ? l.filter((s) => typeof s === 'string') : [];
  } catch {
    return [];
  }
}

// The sign-in form, with a `notice` above it (why it is shown again).
export function showLogin(notice = '') {
  const servers = knownServers();
  const wanted = state.getSegs()[0] || state.getServer() || '';
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
  if (!user.value && state.getUser()) user.value = state.getUser();
  (user.value ? $('login-pass') : user).focus();
}

// The session is gone (a 401): back to the sign-in form, at the same location.
export function sessionExpired() {
  if (state.getView() === 'login') return;
  // At start-up (no session yet) a plain login form; later, say what happened.
  showLogin(state.getView() === 'browse' ? 'Your session has ended. Sign in again to continue where you were.' : '');
}

// Remembers the configured servers' names for the login chooser.
export async function learnServers() {
  try {
    localStorage.setItem('smbgate.servers', JSON.stringify(await serverNames()));
  } catch { /* not important */ }
}

async function onLogin(ev, afterLogin) {
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
    const res = await loginRequest(body);
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
    state.signedIn(j.user || username, j.server || server);
    $('login-pass').value = '';
    learnServers();
    if (!state.getSegs().length) {
      // Straight to the shares of the server we logged in to.
      location.hash = hashFor([state.getServer()]);
      return;
    }
    afterLogin();
  } catch (e) {
    err.textContent = 'The gateway cannot be reached: ' + e.message;
    err.hidden = false;
  } finally {
    btn.disabled = false;
    btn.textContent = 'Sign in';
  }
}

async function onLogout() {
  try {
    await logout();
  } catch { /* gone anyway */ }
  state.forgetServer();
  state.setEntries([]);
  clearRows();
  history.replaceState(null, '', location.pathname);
  state.setSegs([]);
  showLogin('You are signed out.');
}

// The form and the Log out button; `afterLogin` runs after a login at a
// location (the router lists it).
export function wireLogin(afterLogin) {
  $('login-form').addEventListener('submit', (ev) => onLogin(ev, afterLogin));
  $('logout').addEventListener('click', onLogout);
}
