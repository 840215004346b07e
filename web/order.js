// smbgate web UI (runs in the browser; pure, also unit-tested in node): a
// listing's order, for folders of up to 100 000 entries. The keys are
// computed once per listing (indexEntries): each name lower-cased for the
// filter, its rank in the name order (Intl.Collator, once), sizes and dates as
// numbers. Sorting by a column is then a sort of numbers (sortedOrder, kept
// per column and direction) and a filter keystroke one substring test per
// entry (filterOrder). Orders are Int32Arrays of indexes into the entries.
//
// The order is util.js's: folders first whatever the direction, then by the
// column, ties by name; names compared with numbers as numbers ("file2"
// before "file10"), case and accents ignored; names equal that way keep the
// listing's order, in either direction.

// The filter's form of a text: NFC (a name typed on one system and stored by
// another compares the same), lower case of `locales` (undefined: the
// browser's). No accent folding: "ete" does not find "été".
export const filterKey = (text, locales) => text.normalize('NFC').toLocaleLowerCase(locales);

// The keys of `entries` (the API's listing; it is not changed). `locales`
// (undefined: the browser's) for the collator and the lower case.
export function indexEntries(entries, locales) {
  const n = entries.length;
  const lower = new Array(n), size = new Float64Array(n), mtime = new Float64Array(n);
  const group = new Uint8Array(n); // 0 folder, 1 anything else
  const names = new Array(n);
  for (let i = 0; i < n; i++) {
    const e = entries[i];
    names[i] = e.name;
    lower[i] = filterKey(e.name, locales);
    size[i] = Number(e.size) || 0;
    const t = e.mtime ? Date.parse(e.mtime) : NaN;
    mtime[i] = Number.isNaN(t) ? -Infinity : t;
    group[i] = e.type === 'dir' ? 0 : 1;
  }
  // Name ranks, equal for names the collator finds equal. A first sort by
  // the lower case (plain string comparisons, cheap) puts the names nearly in
  // the collator's order, so that the collator's sort (a merge sort, which
  // finds runs) needs about one comparison per name when numbers in names are
  // zero-padded, a few more when they are not; instead of a dozen or more.
  const byName = Array.from({length: n}, (_, i) => i);
  byName.sort((a, b) => (lower[a] < lower[b] ? -1 : lower[a] > lower[b] ? 1 : a - b));
  const coll = new Intl.Collator(locales, {numeric: true, sensitivity: 'base'});
  byName.sort((a, b) => coll.compare(names[a], names[b]) || a - b);
  const rank = new Int32Array(n);
  let r = 0;
  for (let k = 0; k < n; k++) {
    if (k > 0 && coll.compare(names[byName[k - 1]], names[byName[k]]) !== 0) r++;
    rank[byName[k]] = r;
  }
  return {entries, n, lower, size, mtime, group, rank, byName, orders: new Map(), filtered: null};
}

// The entries' indexes sorted by `key` ('name', 'size' or 'mtime') in
// direction `dir` (1 or -1). Kept in the index: the same order again costs
// nothing. The caller must not change it.
export function sortedOrder(idx, {key, dir}) {
  const id = key + (dir < 0 ? '-' : '+');
  let o = idx.orders.get(id);
  if (o) return o;
  const {n, group, rank} = idx;
  if (key === 'name' && dir > 0) {
    // The name order, folders first: no sort at all.
    o = new Int32Array(n);
    let k = 0;
    for (const g of [0, 1]) for (const i of idx.byName) if (group[i] === g) o[k++] = i;
  } else {
    const v = key === 'size' ? idx.size : key === 'mtime' ? idx.mtime : null;
    const a = Array.from({length: n}, (_, i) => i);
    a.sort((x, y) => group[x] - group[y] ||
      ((v ? Math.sign(v[x] - v[y]) : 0) || rank[x] - rank[y]) * dir || x - y);
    o = Int32Array.from(a);
  }
  idx.orders.set(id, o);
  return o;
}

// The indexes of `order` whose name contains `text` (filterKey), in that
// order; '' gives `order` itself. A text that extends the previous one of
// the same order filters that one's result only (typing a word letter by
// letter shrinks the work with each letter).
export function filterOrder(idx, order, text, locales) {
  if (!text) return order;
  const f = filterKey(text, locales);
  const prev = idx.filtered;
  let from = order;
  if (prev && prev.order === order && prev.locales === locales) {
    if (prev.f === f) return prev.result;
    if (f.includes(prev.f)) from = prev.result;
  }
  const {lower} = idx;
  const out = new Int32Array(from.length);
  let k = 0;
  for (let j = 0; j < from.length; j++) {
    const i = from[j];
    if (lower[i].includes(f)) out[k++] = i;
  }
  const result = out.subarray(0, k);
  idx.filtered = {order, locales, f, result};
  return result;
}
