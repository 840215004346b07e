// smbgate web UI: the pure helpers. No DOM, no state, no network: paths and
// URLs, sizes and dates, icons by extension, sorting and filtering a listing,
// name checks and error wording. Unit-tested with node:test
// (tests/unit/web/util.test.mjs).

import {filterKey, indexEntries, sortedOrder} from './order.js';

export const API = '/api/v1';

// ---------------------------------------------------------------- paths
// A location is a list of segments: [server, share, ...dirs]. Each segment is
// percent-encoded on its own, so "/", "%", "#", "?" and "+" in a name survive.
export const enc = (segs) => segs.map(encodeURIComponent).join('/');
// The API's URL of a location; `dir` adds the trailing slash of a listing.
export const fsUrl = (segs, dir) => API + '/fs/' + enc(segs) + (dir && segs.length ? '/' : '');
export const hashFor = (segs) => '#/' + enc(segs);
// Path inside the share, from its root: "/a/b".
export const sharePath = (segs) => '/' + segs.slice(2).join('/');

// The segments of a location hash ("#/server/share/dir"); [] for anything
// that does not decode.
export function parseHash(hash) {
  const h = hash.replace(/^#\/?/, '');
  if (!h) return [];
  try {
    return h.split('/').filter((s) => s !== '').map(decodeURIComponent);
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------- sizes, dates
export function humanSize(n) {
  if (n == null || Number.isNaN(n)) return '';
  if (n < 1024) return n + ' B';
  const units = ['KB', 'MB', 'GB', 'TB', 'PB'];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (v < 10 ? v.toFixed(1) : Math.round(v)) + ' ' + units[i];
}

// A date formatter (medium date, short time) for `locales` and `timeZone`;
// undefined means the browser's. It takes the API's ISO 8601 strings and
// gives '' for a missing or invalid one.
export function dateFormatter(locales, timeZone) {
  const fmt = new Intl.DateTimeFormat(locales, {dateStyle: 'medium', timeStyle: 'short', timeZone});
  return (s) => {
    if (!s) return '';
    const d = new Date(s);
    return Number.isNaN(d.getTime()) ? '' : fmt.format(d);
  };
}

// ---------------------------------------------------------------- icons
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

// The extension, lower case, without the dot; '' for none or a dot file.
export const ext = (name) => {
  const i = name.lastIndexOf('.');
  return i > 0 ? name.slice(i + 1).toLowerCase() : '';
};
export const isViewable = (name) => VIEWABLE.has(ext(name));
// The name of an entry's icon in icons.svg.
export function iconFor(e) {
  if (e.type === 'server') return 'server';
  if (e.type === 'share') return 'share';
  if (e.type === 'dir') return 'folder';
  return EXT_ICON.get(ext(e.name)) || 'file';
}

// ---------------------------------------------------------------- listing order
// For a whole listing at a time; the listing itself keeps the keys of order.js
// between keystrokes.
// The entries whose name contains `text`, case-insensitively (NFC, lower-cased
// in `locales`, undefined: the browser's). '' keeps them all (the same array).
export function filterEntries(entries, text, locales) {
  if (!text) return entries;
  const f = filterKey(text, locales);
  return entries.filter((e) => filterKey(e.name, locales).includes(f));
}

// A sorted copy: folders first whatever the order, then by `key` ('name',
// 'size' or 'mtime') in direction `dir` (1 or -1); ties by name, numbers in
// names compared as numbers ("file2" before "file10"), case and accents
// ignored (names equal that way keep their order).
export function sortEntries(entries, sort, locales) {
  return Array.from(sortedOrder(indexEntries(entries, locales), sort), (i) => entries[i]);
}

// ---------------------------------------------------------------- names, words
// '' when `v` can be a file or folder name, else what is wrong with it.
export const validName = (v) => {
  if (!v) return 'Enter a name.';
  if (v === '.' || v === '..') return 'That name is not allowed.';
  if (/[\\/:*?"<>|\x00-\x1f]/.test(v)) return 'A name cannot contain \\ / : * ? " < > |';
  return '';
};
// '' when `v` is a folder path of the share ("/reports"), else the problem.
export const validDest = (v) => {
  if (!v.startsWith('/')) return 'Enter a folder of this share, starting with “/” (for example /reports).';
  if (v.split('/').some((s) => s === '.' || s === '..')) return '“.” and “..” are not allowed.';
  return '';
};

// A server message as a sentence: capital first letter, one final period.
export const sentence = (m) => (m ? m[0].toUpperCase() + m.slice(1).replace(/\.?$/, '.') : '');

// Friendlier words for the API's error codes; the server's message follows.
export const CODE_TEXT = {
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

// What an upload's outcome {status, body} says: -1 cancelled, -2 not
// replaced, 0 connection lost, else the API's JSON error or the HTTP status.
export function uploadErrorText(r) {
  if (r.status === -1) return 'cancelled';
  if (r.status === -2) return 'skipped (not replaced)';
  if (r.status === 0) return 'failed: the connection was lost';
  try {
    const j = JSON.parse(r.body);
    if (j.error) return `failed: ${CODE_TEXT[j.error.code] ? CODE_TEXT[j.error.code] + ' – ' : ''}${j.error.message}`;
  } catch { /* not JSON */ }
  return `failed (HTTP ${r.status})`;
}
