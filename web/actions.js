// smbgate web UI: the file operations on the current folder: new folder,
// rename, move, copy and delete. Each asks its question in the dialog, calls
// the API, says how it went in the status message and lists the folder again.

import {api} from './api.js';
import {fsUrl, sharePath, validDest, validName} from './util.js';
import * as state from './state.js';
import {ask} from './dialog.js';
import {setMessage} from './listing.js';
import {reload} from './router.js';

export async function doMkdir() {
  const name = await ask({title: 'New folder', label: 'Folder name', input: '', ok: 'Create', validate: validName});
  if (name == null) return;
  try {
    await api('POST', fsUrl([...state.getSegs(), name], false), {op: 'mkdir'});
    setMessage(`Folder “${name}” created.`, 'ok');
  } catch (e) {
    if (e.status !== 401) setMessage(`Could not create “${name}”: ${e.title} – ${e.message}`, 'bad');
    return;
  }
  await reload();
}

// Renames `entry`, or the one ticked entry.
export async function doRename(entry) {
  entry = entry || state.selectedEntries()[0];
  if (!entry) return;
  const name = await ask({title: `Rename “${entry.name}”`, label: 'New name', input: entry.name,
    ok: 'Rename', validate: validName, selectStem: entry.type === 'file'});
  if (name == null || name === entry.name) return;
  const segs = state.getSegs();
  try {
    await api('POST', fsUrl([...segs, entry.name], false),
      {op: 'move', to: sharePath([...segs, name])});
    setMessage(`Renamed “${entry.name}” to “${name}”.`, 'ok');
  } catch (e) {
    if (e.status !== 401) {
      setMessage(e.code === 'exists' ? `Could not rename: “${name}” already exists.`
        : `Could not rename “${entry.name}”: ${e.title} – ${e.message}`, 'bad');
    }
  }
  await reload();
}

// Moves or copies (op 'move' or 'copy') the ticked entries to a folder of the
// same share; asks before replacing.
export async function doTransfer(op) {
  const items = state.selectedEntries();
  if (!items.length) return;
  const verb = op === 'move' ? 'Move' : 'Copy';
  const dest = await ask({
    title: `${verb} ${items.length === 1 ? '“' + items[0].name + '”' : items.length + ' items'}`,
    text: `To which folder of the share “${state.getSegs()[1]}”? Paths start at the share's root.`,
    label: 'Destination folder', input: sharePath(state.getSegs()), ok: verb, validate: validDest,
  });
  if (dest == null) return;
  const base = dest.replace(/\/+$/, '');
  let done = 0;
  const failed = [];
  for (const e of items) {
    const to = base + '/' + e.name;
    const url = fsUrl([...state.getSegs(), e.name], false);
    try {
      try {
        await api('POST', url, {op, to});
      } catch (err) {
        if (err.code !== 'exists') throw err;
        const yes = await ask({title: 'Replace?', text: `“${to}” already exists. Replace it?`, ok: 'Replace', danger: true});
        if (!yes) continue;
        await api('POST', url, {op, to, overwrite: true});
      }
      done++;
    } catch (err) {
      if (err.status === 401) return;
      failed.push(`${e.name}: ${err.message}`);
    }
  }
  state.clearSelection();
  setMessage(failed.length ? `${verb} failed for ${failed.join('; ')}` : `${op === 'move' ? 'Moved' : 'Copied'} ${done} item${done === 1 ? '' : 's'} to ${dest}.`,
    failed.length ? 'bad' : 'ok');
  await reload();
}

// Deletes `list`, or the ticked entries, after asking; folders with their
// content.
export async function doDelete(list) {
  const items = list || state.selectedEntries();
  if (!items.length) return;
  const dirs = items.filter((e) => e.type === 'dir').length;
  const ok = await ask({
    title: items.length === 1 ? `Delete “${items[0].name}”?` : `Delete ${items.length} items?`,
    text: dirs ? 'Folders are deleted with everything in them. This cannot be undone.' : 'This cannot be undone.',
    list: items.length > 1 ? items.map((e) => e.name + (e.type === 'dir' ? '/' : '')) : null,
    ok: 'Delete', danger: true,
  });
  if (!ok) return;
  const failed = [];
  let done = 0;
  for (const e of items) {
    try {
      await api('DELETE', fsUrl([...state.getSegs(), e.name], false) + (e.type === 'dir' ? '?recursive=1' : ''));
      done++;
    } catch (err) {
      if (err.status === 401) return;
      failed.push(`${e.name}: ${err.message}`);
    }
  }
  state.clearSelection();
  setMessage(failed.length ? `Could not delete ${failed.join('; ')}` : `Deleted ${done} item${done === 1 ? '' : 's'}.`,
    failed.length ? 'bad' : 'ok');
  await reload();
}
