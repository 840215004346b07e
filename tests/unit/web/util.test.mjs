// Unit tests of web/util.js, the web UI's pure helpers, in node:test (meson
// suite `unit`). Exact outputs: what the browser will show or request.
// Locales and time zones are given explicitly wherever the result depends on
// them, so the results do not depend on the machine's settings.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {
  API, enc, fsUrl, hashFor, sharePath, parseHash, humanSize, dateFormatter,
  ext, isViewable, iconFor, filterEntries, sortEntries, validName, validDest,
  sentence, uploadErrorText,
} from '../../../web/util.js';

// ---------------------------------------------------------------- paths
// Awkward names and how one segment is percent-encoded.
const AWKWARD = [
  ['100% done.txt', '100%25%20done.txt'],
  ['#hash#.txt', '%23hash%23.txt'],
  ['a+b=c.txt', 'a%2Bb%3Dc.txt'],
  ['what?.txt', 'what%3F.txt'],
  ['a&b;c,d.txt', 'a%26b%3Bc%2Cd.txt'],
  ['Dossier été', 'Dossier%20%C3%A9t%C3%A9'],
  ['日本語.txt', '%E6%97%A5%E6%9C%AC%E8%AA%9E.txt'],
  ['😀.png', '%F0%9F%98%80.png'],
  ["it's (1)!~*.txt", "it's%20(1)!~*.txt"],   // unreserved in encodeURIComponent
  ['back\\slash', 'back%5Cslash'],
  ['a/b', 'a%2Fb'],                             // a "/" never splits a segment
];

test('enc: each segment percent-encoded on its own, joined by "/"', () => {
  for (const [name, want] of AWKWARD) assert.equal(enc([name]), want, name);
  assert.equal(enc([]), '');
  assert.equal(enc(['srv', 'public', '100% done.txt']), 'srv/public/100%25%20done.txt');
});

test('fsUrl: the API URL, with a trailing slash for a listing (not at the root)', () => {
  assert.equal(API, '/api/v1');
  assert.equal(fsUrl([], true), '/api/v1/fs/');
  assert.equal(fsUrl([], false), '/api/v1/fs/');
  assert.equal(fsUrl(['srv'], true), '/api/v1/fs/srv/');
  assert.equal(fsUrl(['srv', 'public', 'Dossier été'], true), '/api/v1/fs/srv/public/Dossier%20%C3%A9t%C3%A9/');
  assert.equal(fsUrl(['srv', 'public', '#hash#.txt'], false), '/api/v1/fs/srv/public/%23hash%23.txt');
  assert.equal(fsUrl(['srv', 'public', 'a+b=c.txt'], false), '/api/v1/fs/srv/public/a%2Bb%3Dc.txt');
});

test('hashFor and sharePath', () => {
  assert.equal(hashFor([]), '#/');
  assert.equal(hashFor(['srv']), '#/srv');
  assert.equal(hashFor(['srv', 'public', '100% done', 'a+b']), '#/srv/public/100%25%20done/a%2Bb');
  assert.equal(sharePath(['srv', 'public']), '/');
  assert.equal(sharePath(['srv', 'public', 'reports']), '/reports');
  // Inside the share the path is plain text (the API's "to"), not encoded.
  assert.equal(sharePath(['srv', 'public', 'Dossier été', '100% done.txt']), '/Dossier été/100% done.txt');
});

test('parseHash: segments decoded, empty ones dropped, garbage gives []', () => {
  assert.deepEqual(parseHash(''), []);
  assert.deepEqual(parseHash('#'), []);
  assert.deepEqual(parseHash('#/'), []);
  assert.deepEqual(parseHash('#/srv'), ['srv']);
  assert.deepEqual(parseHash('#srv/public'), ['srv', 'public']);
  assert.deepEqual(parseHash('#/srv//public/'), ['srv', 'public']);
  assert.deepEqual(parseHash('#/srv/public/100%25%20done.txt'), ['srv', 'public', '100% done.txt']);
  assert.deepEqual(parseHash('#/srv/a%2Fb'), ['srv', 'a/b']);
  assert.deepEqual(parseHash('#/srv/%E0%A4%A'), []);   // truncated UTF-8
  assert.deepEqual(parseHash('#/srv/100%'), []);        // a bare "%"
});

test('parseHash(hashFor(segs)) gives segs back for every awkward name', () => {
  for (const [name] of AWKWARD) {
    const segs = ['srv', 'public', name];
    assert.deepEqual(parseHash(hashFor(segs)), segs, name);
  }
});

// ---------------------------------------------------------------- sizes
test('humanSize: bytes below 1024, then one decimal below 10, whole numbers above', () => {
  const cases = [
    [0, '0 B'], [1, '1 B'], [1023, '1023 B'],
    [1024, '1.0 KB'], [1536, '1.5 KB'],
    [10239, '10.0 KB'],             // 9.999 KB: one decimal, rounded up
    [10240, '10 KB'], [15 * 1024, '15 KB'],
    [1048575, '1024 KB'],           // one byte under 1 MiB stays in KB
    [1048576, '1.0 MB'], [1.25 * 2 ** 30, '1.3 GB'],
    [2 ** 40, '1.0 TB'], [2 ** 50, '1.0 PB'],
    [2 ** 60, '1024 PB'],           // PB is the largest unit
  ];
  for (const [n, want] of cases) assert.equal(humanSize(n), want, String(n));
});

test('humanSize: nothing for a missing size', () => {
  assert.equal(humanSize(undefined), '');
  assert.equal(humanSize(null), '');
  assert.equal(humanSize(NaN), '');
});

// ---------------------------------------------------------------- dates
test('dateFormatter: medium date, short time, in the given locale and time zone', () => {
  const t = '2026-11-29T01:11:17Z';
  assert.equal(dateFormatter('en-GB', 'UTC')(t), '29 Nov 2026, 01:11');
  assert.equal(dateFormatter('en-GB', 'America/New_York')(t), '28 Nov 2026, 20:11');
  assert.equal(dateFormatter('de-DE', 'Europe/Berlin')(t), '29.11.2026, 02:11');
  assert.equal(dateFormatter('de-DE', 'Europe/Berlin')('2026-07-01T12:00:00Z'), '01.07.2026, 14:00');
  assert.equal(dateFormatter('ja-JP', 'Asia/Tokyo')(t), '2026/11/29 10:11');
});

test('dateFormatter: nothing for a missing or invalid date', () => {
  const f = dateFormatter('en-GB', 'UTC');
  for (const s of [undefined, null, '', 'yesterday', '2026-13-45T99:00:00Z']) assert.equal(f(s), '', String(s));
});

test('dateFormatter: without arguments, the browser\'s locale and time zone', () => {
  const want = new Intl.DateTimeFormat(undefined, {dateStyle: 'medium', timeStyle: 'short'})
    .format(new Date('2026-11-29T01:11:17Z'));
  assert.equal(dateFormatter()('2026-11-29T01:11:17Z'), want);
});

// ---------------------------------------------------------------- icons
test('ext, isViewable and iconFor', () => {
  assert.equal(ext('photo.JPG'), 'jpg');
  assert.equal(ext('archive.tar.gz'), 'gz');
  assert.equal(ext('.bashrc'), '');
  assert.equal(ext('Makefile'), '');
  assert.equal(ext('trailing.'), '');
  assert.equal(isViewable('report.PDF'), true);
  assert.equal(isViewable('notes.txt'), true);
  assert.equal(isViewable('report.docx'), false);
  assert.equal(isViewable('.txt'), false);
  assert.equal(iconFor({name: 'x', type: 'server'}), 'server');
  assert.equal(iconFor({name: 'x', type: 'share'}), 'share');
  assert.equal(iconFor({name: 'photo.png', type: 'dir'}), 'folder');
  assert.equal(iconFor({name: 'photo.JPG', type: 'file'}), 'file-image');
  assert.equal(iconFor({name: 'a.tar.gz', type: 'file'}), 'file-archive');
  assert.equal(iconFor({name: 'q3.xlsx', type: 'file'}), 'file-doc');
  assert.equal(iconFor({name: 'main.c', type: 'file'}), 'file-code');
  assert.equal(iconFor({name: 'README', type: 'file'}), 'file');
});

// ---------------------------------------------------------------- sorting
const E = [
  {name: 'b.txt', type: 'file', size: 10, mtime: '2026-01-02T00:00:00Z'},
  {name: 'Zeta', type: 'dir', mtime: '2026-01-01T00:00:00Z'},
  {name: 'file10.txt', type: 'file', size: 5, mtime: '2026-01-03T00:00:00Z'},
  {name: 'file2.txt', type: 'file', size: 5, mtime: '2026-01-01T00:00:00Z'},
  {name: 'alpha', type: 'dir', mtime: '2026-01-05T00:00:00Z'},
  {name: 'A.txt', type: 'file', size: 100, mtime: '2026-01-02T00:00:00Z'},
  {name: 'été.txt', type: 'file', size: 0},
];
const names = (list) => list.map((e) => e.name);
const sortBy = (key, dir) => names(sortEntries(E, {key, dir}, 'en'));

test('sortEntries by name: folders first, case ignored, numbers as numbers', () => {
  assert.deepEqual(sortBy('name', 1), ['alpha', 'Zeta', 'A.txt', 'b.txt', 'été.txt', 'file2.txt', 'file10.txt']);
  // Reversed, but folders still first.
  assert.deepEqual(sortBy('name', -1), ['Zeta', 'alpha', 'file10.txt', 'file2.txt', 'été.txt', 'b.txt', 'A.txt']);
});

test('sortEntries by size: equal sizes by name; folders first', () => {
  assert.deepEqual(sortBy('size', 1), ['alpha', 'Zeta', 'été.txt', 'file2.txt', 'file10.txt', 'b.txt', 'A.txt']);
  assert.deepEqual(sortBy('size', -1), ['Zeta', 'alpha', 'A.txt', 'b.txt', 'file10.txt', 'file2.txt', 'été.txt']);
});

test('sortEntries by date: a missing date first, equal dates by name; folders first', () => {
  assert.deepEqual(sortBy('mtime', 1), ['Zeta', 'alpha', 'été.txt', 'file2.txt', 'A.txt', 'b.txt', 'file10.txt']);
  assert.deepEqual(sortBy('mtime', -1), ['alpha', 'Zeta', 'file10.txt', 'b.txt', 'A.txt', 'file2.txt', 'été.txt']);
});

test('sortEntries: names equal but for case or accents keep their order, either direction', () => {
  const same = [
    {name: 'readme', type: 'file'}, {name: 'README', type: 'file'}, {name: 'Readme', type: 'file'},
    {name: 'résumé', type: 'file'}, {name: 'resume', type: 'file'},
  ];
  assert.deepEqual(names(sortEntries(same, {key: 'name', dir: 1}, 'en')), ['readme', 'README', 'Readme', 'résumé', 'resume']);
  assert.deepEqual(names(sortEntries(same, {key: 'name', dir: -1}, 'en')), ['résumé', 'resume', 'readme', 'README', 'Readme']);
  const swapped = [same[4], same[3]];
  assert.deepEqual(names(sortEntries(swapped, {key: 'name', dir: 1}, 'en')), ['resume', 'résumé']);
});

test('sortEntries: shares and servers are not folders (sorted among themselves)', () => {
  const shares = [{name: 'public', type: 'share'}, {name: 'Admin', type: 'share'}, {name: 'x', type: 'dir'}];
  assert.deepEqual(names(sortEntries(shares, {key: 'name', dir: 1}, 'en')), ['x', 'Admin', 'public']);
});

test('sortEntries returns a copy and leaves its input as it was', () => {
  const before = names(E);
  const out = sortEntries(E, {key: 'name', dir: 1}, 'en');
  assert.notEqual(out, E);
  assert.deepEqual(names(E), before);
});

// ---------------------------------------------------------------- filtering
const F = [
  {name: 'Dossier été', type: 'dir'},
  {name: '100% done.txt', type: 'file'},
  {name: 'a+b=c.txt', type: 'file'},
  {name: 'ОТЧЁТ 2026.docx', type: 'file'},
  {name: 'FILE2.txt', type: 'file'},
  {name: 'file10.txt', type: 'file'},
];
const filt = (text, locale = 'en') => names(filterEntries(F, text, locale));

test('filterEntries: "" keeps everything (the same array)', () => {
  assert.equal(filterEntries(F, '', 'en'), F);
});

test('filterEntries: substring, case-insensitive, in the listing\'s order', () => {
  assert.deepEqual(filt('file'), ['FILE2.txt', 'file10.txt']);
  assert.deepEqual(filt('FILE1'), ['file10.txt']);
  assert.deepEqual(filt('.TXT'), ['100% done.txt', 'a+b=c.txt', 'FILE2.txt', 'file10.txt']);
  assert.deepEqual(filt('nothing'), []);
});

test('filterEntries: unicode case, no accent folding', () => {
  assert.deepEqual(filt('ÉTÉ'), ['Dossier été']);
  assert.deepEqual(filt('Été'), ['Dossier été']);
  assert.deepEqual(filt('ete'), []);
  assert.deepEqual(filt('отчёт'), ['ОТЧЁТ 2026.docx']);
});

test('filterEntries: the text is literal (no pattern)', () => {
  assert.deepEqual(filt('100%'), ['100% done.txt']);
  assert.deepEqual(filt('+B='), ['a+b=c.txt']);
  assert.deepEqual(filt('.*'), []);
});

test('filterEntries: lower case of the given locale', () => {
  const list = [{name: 'İstanbul.txt', type: 'file'}];
  assert.deepEqual(names(filterEntries(list, 'istanbul', 'tr')), ['İstanbul.txt']);
  assert.deepEqual(names(filterEntries(list, 'istanbul', 'en')), []);   // "i̇" keeps its dot
});

// ---------------------------------------------------------------- names, words
test('validName', () => {
  assert.equal(validName('report 2026.txt'), '');
  assert.equal(validName('100% done #1 a+b=c'), '');
  assert.equal(validName(''), 'Enter a name.');
  assert.equal(validName('.'), 'That name is not allowed.');
  assert.equal(validName('..'), 'That name is not allowed.');
  for (const bad of ['a/b', 'a\\b', 'a:b', 'a*', 'a?', 'a"b', '<a>', 'a|b', 'tab\there', 'nul\x00']) {
    assert.equal(validName(bad), 'A name cannot contain \\ / : * ? " < > |', JSON.stringify(bad));
  }
});

test('validDest', () => {
  assert.equal(validDest('/'), '');
  assert.equal(validDest('/reports/2026'), '');
  assert.equal(validDest('/...'), '');
  assert.equal(validDest('reports'), 'Enter a folder of this share, starting with “/” (for example /reports).');
  assert.equal(validDest('/a/../b'), '“.” and “..” are not allowed.');
  assert.equal(validDest('/./a'), '“.” and “..” are not allowed.');
});

test('sentence', () => {
  assert.equal(sentence('the file server denied access'), 'The file server denied access.');
  assert.equal(sentence('Already a sentence.'), 'Already a sentence.');
  assert.equal(sentence('é'), 'É.');
  assert.equal(sentence(''), '');
  assert.equal(sentence(undefined), '');
});

test('uploadErrorText', () => {
  assert.equal(uploadErrorText({status: -1, body: ''}), 'cancelled');
  assert.equal(uploadErrorText({status: -2}), 'skipped (not replaced)');
  assert.equal(uploadErrorText({status: 0, body: ''}), 'failed: the connection was lost');
  assert.equal(uploadErrorText({status: 403, body: '{"error":{"code":"access_denied","message":"the file server denied access"}}'}),
    'failed: Access denied – the file server denied access');
  assert.equal(uploadErrorText({status: 400, body: '{"error":{"code":"odd","message":"something"}}'}), 'failed: something');
  assert.equal(uploadErrorText({status: 502, body: '<html>bad gateway</html>'}), 'failed (HTTP 502)');
  assert.equal(uploadErrorText({status: 500, body: 'null'}), 'failed (HTTP 500)');
});
