// Unit tests of web/order.js, the listing's precomputed keys and orders, in
// node:test (meson suite `unit`). Every order is compared with the plain
// definition (one collator comparison per pair, as the listing sorted before
// it kept keys), on fixed and on generated listings; locales are given.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {filterKey, filterOrder, indexEntries, sortedOrder} from '../../../web/order.js';

// The definition: folders first whatever the direction, then the column,
// ties by name (collator: numeric, base), `* dir`; equal entries keep their
// order (Array.prototype.sort is stable).
function reference(entries, {key, dir}, locales) {
  const coll = new Intl.Collator(locales, {numeric: true, sensitivity: 'base'});
  const time = (e) => (e.mtime && !Number.isNaN(Date.parse(e.mtime)) ? Date.parse(e.mtime) : -Infinity);
  return entries.map((e, i) => i).sort((x, y) => {
    const a = entries[x], b = entries[y];
    const da = a.type === 'dir' ? 0 : 1, db = b.type === 'dir' ? 0 : 1;
    if (da !== db) return da - db;
    let c = 0;
    if (key === 'size') c = Math.sign((a.size || 0) - (b.size || 0));
    else if (key === 'mtime') c = Math.sign(time(a) - time(b)) || 0;
    if (c === 0) c = coll.compare(a.name, b.name);
    return c * dir;
  });
}

// A generated listing: names that differ by case, accents, digits (with and
// without leading zeros), punctuation and script; repeated sizes and dates,
// some missing; folders among the files. Deterministic (seeded).
function generate(n, seed) {
  let x = seed >>> 0;
  const rnd = (k) => { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; return x % k; };
  const stems = ['file', 'File', 'FILE', 'été', 'ete', 'Été', 'résumé', 'resume', 'a', 'A', 'b-c', 'b_c', 'b c',
    'b.c', 'Ω', 'ω', 'отчёт', 'ОТЧЁТ', '日本', 'z', '', '_', '#', 'photo'];
  const out = [], seen = new Set();
  while (out.length < n) {
    const stem = stems[rnd(stems.length)];
    const num = rnd(3) ? String(rnd(1000)).padStart(rnd(3) ? 0 : 6, '0') : '';
    const name = stem + (rnd(2) ? '-' : '') + num + ['', '.txt', '.TXT', '.jpg'][rnd(4)] || 'x' + rnd(1e9);
    if (seen.has(name)) continue;
    seen.add(name);
    const dir = rnd(8) === 0;
    out.push({name, type: dir ? 'dir' : 'file', size: dir ? undefined : rnd(50) * 1000,
      mtime: rnd(10) ? `2026-0${1 + rnd(9)}-1${rnd(10)}T0${rnd(10)}:00:00Z` : undefined});
  }
  return out;
}

const SORTS = [];
for (const key of ['name', 'size', 'mtime']) for (const dir of [1, -1]) SORTS.push({key, dir});

test('sortedOrder: the order of the definition, every column and direction (generated listings)', () => {
  for (const [n, seed] of [[1, 1], [2, 2], [50, 3], [700, 4], [3000, 5]]) {
    const entries = generate(n, seed);
    const idx = indexEntries(entries, 'en');
    for (const s of SORTS) {
      assert.deepEqual([...sortedOrder(idx, s)], reference(entries, s, 'en'), `n=${n} ${s.key} ${s.dir}`);
    }
  }
});

test('sortedOrder: folders first, numbers as numbers, equal names keep the listing\'s order both ways', () => {
  const entries = [
    {name: 'file10.txt', type: 'file', size: 5}, {name: 'README', type: 'file', size: 1},
    {name: 'Zeta', type: 'dir'}, {name: 'file2.txt', type: 'file', size: 5},
    {name: 'readme', type: 'file', size: 1}, {name: 'alpha', type: 'dir'},
    {name: 'résumé', type: 'file', size: 9}, {name: 'resume', type: 'file', size: 9},
  ];
  const idx = indexEntries(entries, 'en');
  const names = (o) => [...o].map((i) => entries[i].name);
  assert.deepEqual(names(sortedOrder(idx, {key: 'name', dir: 1})),
    ['alpha', 'Zeta', 'file2.txt', 'file10.txt', 'README', 'readme', 'résumé', 'resume']);
  assert.deepEqual(names(sortedOrder(idx, {key: 'name', dir: -1})),
    ['Zeta', 'alpha', 'résumé', 'resume', 'README', 'readme', 'file10.txt', 'file2.txt']);
  assert.deepEqual(names(sortedOrder(idx, {key: 'size', dir: -1})),
    ['Zeta', 'alpha', 'résumé', 'resume', 'file10.txt', 'file2.txt', 'README', 'readme']);
  // Names equal but for case or accents share a rank.
  assert.equal(idx.rank[1], idx.rank[4]);
  assert.equal(idx.rank[6], idx.rank[7]);
  assert.notEqual(idx.rank[0], idx.rank[3]);
});

test('sortedOrder: kept per column and direction; the entries are not changed', () => {
  const entries = generate(200, 9);
  const copy = structuredClone(entries);
  const idx = indexEntries(entries, 'en');
  const a = sortedOrder(idx, {key: 'size', dir: 1});
  assert.equal(sortedOrder(idx, {key: 'size', dir: 1}), a);
  assert.notEqual(sortedOrder(idx, {key: 'size', dir: -1}), a);
  assert.ok(a instanceof Int32Array);
  assert.deepEqual(entries, copy);
});

test('sortedOrder: a listing at the gateway\'s limit (100 000 entries) in the definition\'s order', () => {
  const entries = Array.from({length: 100000}, (_, i) => ({
    name: `file-${String((i * 7919) % 100000).padStart(6, '0')}.txt`, type: i % 1000 ? 'file' : 'dir',
    size: (i * 31) % 1000}));
  const idx = indexEntries(entries, 'en');
  const coll = new Intl.Collator('en', {numeric: true, sensitivity: 'base'});
  for (const s of [{key: 'name', dir: 1}, {key: 'size', dir: -1}]) {
    const o = sortedOrder(idx, s);
    assert.equal(o.length, 100000);
    assert.equal(new Set(o).size, 100000);
    for (let k = 1; k < o.length; k++) {
      const a = entries[o[k - 1]], b = entries[o[k]];
      const ga = a.type === 'dir' ? 0 : 1, gb = b.type === 'dir' ? 0 : 1;
      const c = ga - gb || ((s.key === 'size' ? Math.sign(a.size - b.size) : 0) || coll.compare(a.name, b.name)) * s.dir;
      assert.ok(c < 0, `${a.name} before ${b.name} (${s.key} ${s.dir})`);
    }
  }
});

test('filterOrder: substring of the NFC lower case, in the given order; "" is the order itself', () => {
  const entries = [
    {name: 'Dossier été', type: 'dir'}, {name: 'Dossier e\u0301te\u0301 2', type: 'dir'},
    {name: 'FILE2.txt', type: 'file'}, {name: 'file10.txt', type: 'file'}, {name: '100% done.txt', type: 'file'},
    {name: 'ОТЧЁТ 2026.docx', type: 'file'},
  ];
  const idx = indexEntries(entries, 'en');
  const order = sortedOrder(idx, {key: 'name', dir: -1});
  const names = (o) => [...o].map((i) => entries[i].name);
  assert.equal(filterOrder(idx, order, '', 'en'), order);
  assert.deepEqual(names(filterOrder(idx, order, 'FILE', 'en')), ['file10.txt', 'FILE2.txt']);
  assert.deepEqual(names(filterOrder(idx, order, 'ÉTÉ', 'en')), ['Dossier e\u0301te\u0301 2', 'Dossier été']);
  assert.deepEqual(names(filterOrder(idx, order, 'e\u0301te\u0301', 'en')), ['Dossier e\u0301te\u0301 2', 'Dossier été']);
  assert.deepEqual(names(filterOrder(idx, order, 'ete', 'en')), []);
  assert.deepEqual(names(filterOrder(idx, order, 'отчёт', 'en')), ['ОТЧЁТ 2026.docx']);
  assert.deepEqual(names(filterOrder(idx, order, '.*', 'en')), []);
  assert.deepEqual(names(filterOrder(idx, order, '100%', 'en')), ['100% done.txt']);
  assert.equal(filterKey('İ', 'tr'), 'i');
});

test('filterOrder: typing letter by letter, deleting, and a new sort give the result of a fresh filter', () => {
  const entries = generate(3000, 11);
  const idx = indexEntries(entries, 'en');
  const fresh = (order, text) => [...order].filter((i) => entries[i].name.normalize('NFC').toLocaleLowerCase('en')
    .includes(text.normalize('NFC').toLocaleLowerCase('en')));
  let order = sortedOrder(idx, {key: 'name', dir: 1});
  for (const text of ['f', 'fi', 'fil', 'file', 'file-', 'file-1', 'file-', 'fi', 'ile', 'e', 'ée', 'été', '']) {
    assert.deepEqual([...filterOrder(idx, order, text, 'en')], fresh(order, text), JSON.stringify(text));
  }
  filterOrder(idx, order, 'file', 'en');
  order = sortedOrder(idx, {key: 'size', dir: -1});
  assert.deepEqual([...filterOrder(idx, order, 'file-1', 'en')], fresh(order, 'file-1'));
  // The same text twice: the same result.
  const r = filterOrder(idx, order, 'file-1', 'en');
  assert.equal(filterOrder(idx, order, 'file-1', 'en'), r);
});
