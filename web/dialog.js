// smbgate web UI: the one modal dialog (<dialog id="dialog">), for questions
// (Replace? Delete?) and for a name or a destination folder. ask() opens it
// and resolves with the answer; wireDialog() connects its buttons.

import {$, el} from './dom.js';

let dialogResolve = null;

// Closes the dialog (if open) and answers the pending ask() with `value`.
export function closeDialog(value = null) {
  const d = $('dialog');
  if (d.open) d.close();
  if (dialogResolve) { const r = dialogResolve; dialogResolve = null; r(value); }
}

// ask({title, text, list, input, label, ok, danger, validate, selectStem})
// → the string typed (with `input`), true (confirmed) or null (cancelled).
export function ask(o) {
  closeDialog();
  $('dialog-title').textContent = o.title;
  $('dialog-text').textContent = o.text || '';
  $('dialog-text').hidden = !o.text;
  const ul = $('dialog-list');
  ul.replaceChildren(...(o.list || []).map((t) => el('li', {}, t)));
  ul.hidden = !(o.list && o.list.length);
  const input = $('dialog-input'), label = $('dialog-label');
  input.hidden = label.hidden = o.input === undefined;
  input.value = o.input ?? '';
  label.textContent = o.label || '';
  $('dialog-error').hidden = true;
  const ok = $('dialog-ok');
  ok.textContent = o.ok || 'OK';
  ok.className = 'btn ' + (o.danger ? 'primary danger-fill' : 'primary');
  const d = $('dialog');
  d.showModal();
  if (o.input !== undefined) {
    input.focus();
    // Select the name without its extension, like file managers do.
    const dot = o.selectStem ? input.value.lastIndexOf('.') : -1;
    input.setSelectionRange(0, dot > 0 ? dot : input.value.length);
  } else {
    (o.danger ? $('dialog-cancel') : ok).focus();
  }
  return new Promise((resolve) => {
    dialogResolve = resolve;
    d.validate = o.validate;
    d.wantsInput = o.input !== undefined;
  });
}

function dialogSubmit(ev) {
  ev.preventDefault();
  const d = $('dialog');
  if (d.wantsInput) {
    const v = $('dialog-input').value.trim();
    const problem = d.validate ? d.validate(v) : (v ? '' : 'Enter a name.');
    if (problem) {
      $('dialog-error').textContent = problem;
      $('dialog-error').hidden = false;
      return;
    }
    closeDialog(v);
  } else {
    closeDialog(true);
  }
}

export function wireDialog() {
  $('dialog-form').addEventListener('submit', dialogSubmit);
  $('dialog-cancel').addEventListener('click', () => closeDialog(null));
  $('dialog').addEventListener('cancel', (ev) => { ev.preventDefault(); closeDialog(null); });
}
