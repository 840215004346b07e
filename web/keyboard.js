// smbgate web UI: the keyboard. In the listing ↑/↓ move between rows,
// Page Up/Page Down by a screenful, Home/End to the first and last row (the
// listing scrolls to them, however long it is); Space ticks the focused row,
// Shift+Space every row from the last one ticked; Enter opens it; F2 renames
// it. Delete (anywhere but a text field) deletes the ticked entries or the
// focused one. In the filter box ↓ goes to the first row and Escape empties
// it.

import {$} from './dom.js';
import * as state from './state.js';
import {cursor, entryAt, focusRow, focusedEntry, pageRows, posOf, render, rowCount, rowOf, tickAt} from './listing.js';
import {doDelete, doRename} from './actions.js';

export function wireKeyboard() {
  $('filter').addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown') { ev.preventDefault(); focusRow(0); }
    if (ev.key === 'Escape' && ev.target.value) { ev.target.value = ''; state.setFilter(''); render(); }
  });

  // On a row, or on the listing itself when the focused row scrolled away
  // (then the cursor stands for it).
  const zone = $('drop-zone');
  zone.addEventListener('keydown', (ev) => {
    const onZone = ev.target === zone;
    const p = onZone ? cursor() : posOf(rowOf(ev.target));
    if (p < 0 || !rowCount() || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const moves = {ArrowDown: p + 1, ArrowUp: p - 1, PageDown: p + pageRows(), PageUp: p - pageRows(),
      Home: 0, End: rowCount() - 1};
    if (ev.key in moves && !ev.shiftKey) {
      ev.preventDefault();
      focusRow(moves[ev.key]);
    } else if (ev.key === ' ' && (onZone || ev.target.matches('a.open')) && state.inFolder()) {
      ev.preventDefault();
      tickAt(p, ev.shiftKey || !state.isSelected(entryAt(p).name), ev.shiftKey);
    } else if (ev.key === 'Enter' && onZone) {
      ev.preventDefault();
      focusRow(p);
      document.activeElement.click();
    } else if (ev.key === 'F2' && state.inFolder()) {
      ev.preventDefault();
      doRename(entryAt(p));
    }
  });

  document.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Delete' || state.getView() !== 'browse' || !state.inFolder() || $('dialog').open) return;
    if (ev.target.matches?.('input:not([type=checkbox]), textarea, select')) return;
    if (state.selectedCount()) { ev.preventDefault(); doDelete(); return; }
    const e = focusedEntry();
    if (e) { ev.preventDefault(); doDelete([e]); }
  });
}
