// smbgate web UI: the keyboard. In the listing ↑/↓ move between rows, Space
// ticks the focused row, F2 renames it; Delete (anywhere but a text field)
// deletes the ticked entries or the focused one. In the filter box ↓ goes to
// the first row and Escape empties it.

import {$} from './dom.js';
import * as state from './state.js';
import {entryOf, focusNextRow, focusRow, render, rowOf} from './listing.js';
import {doDelete, doRename} from './actions.js';

export function wireKeyboard() {
  $('filter').addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown') { ev.preventDefault(); focusRow(0); }
    if (ev.key === 'Escape' && ev.target.value) { ev.target.value = ''; state.setFilter(''); render(); }
  });

  $('rows').addEventListener('keydown', (ev) => {
    const tr = rowOf(ev.target);
    if (!tr) return;
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      focusNextRow(tr, ev.key === 'ArrowDown' ? 1 : -1);
    } else if (ev.key === ' ' && ev.target.matches('a.open') && state.inFolder()) {
      ev.preventDefault();
      const cb = tr.querySelector('input.sel');
      cb.checked = !cb.checked;
      cb.dispatchEvent(new Event('change', {bubbles: true}));
    } else if (ev.key === 'F2' && state.inFolder()) {
      ev.preventDefault();
      doRename(entryOf(tr));
    }
  });

  document.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Delete' || state.getView() !== 'browse' || !state.inFolder() || $('dialog').open) return;
    if (ev.target.matches?.('input:not([type=checkbox]), textarea, select')) return;
    if (state.selectedCount()) { ev.preventDefault(); doDelete(); return; }
    const e = entryOf(rowOf(document.activeElement));
    if (e) { ev.preventDefault(); doDelete([e]); }
  });
}
