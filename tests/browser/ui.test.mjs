// Browser tests of the smbgate web UI: Debian's Chromium, driven by
// playwright-core, against a real gateway and the Samba fixture. Started by
// run.sh (which sets SMBGATE_URL, SMBGATE_SERVER, SMBGATE_SCREENSHOTS and the
// fixture's SAMBA_* variables). The scenarios run in order and share one
// browser; each checks what the user sees and the effect on the share's
// directory on disk.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {readFile, writeFile, mkdir, stat, access, chown, readdir, rm} from 'node:fs/promises';
import {randomBytes, createHash} from 'node:crypto';
import {execFileSync} from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {chromium} from 'playwright-core';

const BASE = must('SMBGATE_URL');
const SERVER = must('SMBGATE_SERVER');
const SHOTS = must('SMBGATE_SCREENSHOTS');
const PUBLIC = must('SAMBA_SHARE_PUBLIC');
const ALICE = [must('SAMBA_USER1'), must('SAMBA_PASS1')];
const BOB = [must('SAMBA_USER2'), must('SAMBA_PASS2')];
const DOSSIER = 'Dossier été';
const T = 20000;

function must(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run this through tests/browser/run.sh`);
  return v;
}
const exists = (p) => access(p).then(() => true, () => false);
const rowNames = (page) => page.$$eval('#rows tr', (trs) => trs.map((tr) => tr.dataset.name));
const row = (page, name) => page.locator(`#rows tr[data-name="${name.replace(/"/g, '\\"')}"]`);
const shot = (page, name) => page.screenshot({path: path.join(SHOTS, name + '.png')});

let browser, context, page;

// Every 401 of the gateway carries `WWW-Authenticate: Basic`, on which
// On a 401 with a Basic challenge Chromium opens its own sign-in prompt
// (headless: it waits for it forever) instead of handing the 401 to the page.
// The gateway leaves the challenge out for the UI's requests (they carry
// X-Requested-With); should one still come, each page answers it with
// "Cancel", and counts it: the last test asserts that none came.
let basicPrompts = 0;
// A network error for the PATCH number `fail` (tus uploads), when set; the
// PATCH number `hold` is held back (never sent) and `held()` called.
let patchPlan = null;
async function newPage(ctx) {
  const p = await ctx.newPage();
  const cdp = await ctx.newCDPSession(p);
  cdp.on('Fetch.requestPaused', (e) => {
    if (patchPlan && e.request.method === 'PATCH' && ++patchPlan.seen === patchPlan.fail) {
      cdp.send('Fetch.failRequest', {requestId: e.requestId, errorReason: 'ConnectionReset'}).catch(() => {});
      return;
    }
    if (patchPlan && e.request.method === 'PATCH' && patchPlan.seen === patchPlan.hold) {
      patchPlan.held(); // never sent: the page is reloaded meanwhile
      return;
    }
    cdp.send('Fetch.continueRequest', {requestId: e.requestId}).catch(() => {});
  });
  cdp.on('Fetch.authRequired', (e) => {
    basicPrompts++;
    cdp.send('Fetch.continueWithAuth', {requestId: e.requestId, authChallengeResponse: {response: 'CancelAuth'}}).catch(() => {});
  });
  await cdp.send('Fetch.enable', {handleAuthRequests: true, patterns: [{urlPattern: '*/api/*'}]});
  return p;
}

before(async () => {
  await mkdir(SHOTS, {recursive: true});
  browser = await chromium.launch({
    executablePath: process.env.SMBGATE_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  });
  context = await browser.newContext({viewport: {width: 1200, height: 760}, acceptDownloads: true, locale: 'en-GB'});
  page = await newPage(context);
  // Any script error or CSP violation in the page fails the run.
  page.on('pageerror', (e) => { pageErrors.push(String(e)); });
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 40[13]|status of 412|status of 423|ERR_CONNECTION_RESET|net::ERR_FAILED/.test(m.text())) pageErrors.push(m.text()); });
});
const pageErrors = [];

after(async () => {
  await browser?.close();
});

async function login(p, [user, pass]) {
  await p.locator('#login-view').waitFor();
  await p.fill('#login-user', user);
  await p.fill('#login-pass', pass);
  await p.click('#login-submit');
}

test('the login form: a wrong password is refused with a clear message', {timeout: 90000}, async () => {
  await page.goto(BASE + '/');
  await page.locator('#login-view').waitFor();
  assert.equal(await page.isVisible('#browse-view'), false);
  await shot(page, '00-login');
  await login(page, [ALICE[0], 'not-the-password']);
  const err = page.locator('#login-error');
  await err.waitFor();
  assert.match(await err.textContent(), /Wrong user name or password/);
  assert.equal(await page.isVisible('#browse-view'), false);
  await shot(page, '01-login-error');
});

test('log in with the right password: the shares of the server', {timeout: 90000}, async () => {
  await page.fill('#login-pass', ALICE[1]);
  await page.click('#login-submit');
  await page.locator('#browse-view').waitFor();
  await page.locator('#rows tr[data-name="public"]').waitFor();
  assert.equal(new URL(page.url()).hash, '#/' + SERVER);
  const names = await rowNames(page);
  for (const s of ['public', 'alice_private', 'readonly']) assert.ok(names.includes(s), `share ${s} listed: ${names}`);
  // A share's comment from the server shows beside its name.
  assert.equal(await page.textContent('#rows tr[data-name="public"] small.comment'),
    'Shared by alice & bob: café');
  assert.match(await page.textContent('#who-text'), new RegExp(ALICE[0]));
  // The password is nowhere in storage or the URL.
  const stored = await page.evaluate(() => JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage}) + location.href);
  assert.ok(!stored.includes(ALICE[1]));
  // The session cookie is HttpOnly: invisible to scripts.
  assert.equal(await page.evaluate(() => document.cookie), '');
});

test('open a share: folders first, human sizes, sorting and filter', {timeout: 90000}, async () => {
  await page.click('#rows a.open >> text=public');
  await page.locator('#rows tr[data-name="hello.txt"]').waitFor();
  assert.equal(new URL(page.url()).hash, `#/${SERVER}/public`);
  const names = await rowNames(page);
  const types = await page.$$eval('#rows tr', (trs) => trs.map((tr) => tr.dataset.type));
  const firstFile = types.indexOf('file');
  assert.ok(firstFile > 0 && types.slice(firstFile).every((t) => t === 'file'), 'folders come first: ' + types);
  for (const n of [DOSSIER, 'empty folder', 'nested', 'Ünïcødé ファイル.txt', '100% done.txt', '#hash#.txt', 'big.bin']) {
    assert.ok(names.includes(n), `${n} listed`);
  }
  assert.equal(await row(page, 'big.bin').locator('td.c-size').textContent(), '3.0 MB');
  assert.equal(await row(page, 'hello.txt').locator('td.c-size').textContent(), '14 B');
  // Breadcrumbs: Servers › samba › public
  assert.deepEqual(await page.$$eval('#crumbs li', (l) => l.map((x) => x.textContent)), ['Servers', SERVER, 'public']);
  await shot(page, '02-listing');

  // Sort by size, descending: big.bin is the first file.
  await page.click('th[data-key="size"] button');
  await page.click('th[data-key="size"] button');
  assert.equal(await page.getAttribute('th[data-key="size"]', 'aria-sort'), 'descending');
  const bySize = await rowNames(page);
  assert.equal(bySize[firstFile], 'big.bin');
  await page.click('th[data-key="name"] button');

  // Filter.
  await page.fill('#filter', 'TOM');
  assert.deepEqual(await rowNames(page), ['Tom & Jerry.txt']);
  await page.fill('#filter', 'zzz-nothing');
  await page.locator('#state:has-text("Nothing matches")').waitFor();
  await page.fill('#filter', '');
  assert.equal((await rowNames(page)).length, names.length);
});

test('enter the folder "Dossier été"; reload, back and forward keep the place', {timeout: 90000}, async () => {
  await row(page, DOSSIER).locator('a.open').click();
  await page.locator('#rows tr[data-name="note.txt"]').waitFor();
  const hash = new URL(page.url()).hash;
  assert.equal(hash, `#/${SERVER}/public/Dossier%20%C3%A9t%C3%A9`);
  assert.equal(await page.textContent('#crumbs [aria-current]'), DOSSIER);
  await page.reload();
  await page.locator('#rows tr[data-name="note.txt"]').waitFor();
  await page.goBack();
  await page.locator('#rows tr[data-name="hello.txt"]').waitFor();
  await page.goForward();
  await page.locator('#rows tr[data-name="note.txt"]').waitFor();
  assert.equal(new URL(page.url()).hash, hash);
});

test('download files: the bytes are those of the share', {timeout: 90000}, async () => {
  let [dl] = await Promise.all([page.waitForEvent('download'), row(page, 'note.txt').locator('a.dl').click()]);
  assert.equal(dl.suggestedFilename(), 'note.txt');
  assert.equal(await readFile(await dl.path(), 'utf8'), 'note in dossier\n');

  // A binary file from the share's root, compared with the file on disk.
  await page.click(`#crumbs a:text-is("public")`);
  await page.locator('#rows tr[data-name="binary.bin"]').waitFor();
  [dl] = await Promise.all([page.waitForEvent('download'), row(page, 'binary.bin').locator('a.open').click()]);
  assert.deepEqual(await readFile(await dl.path()), await readFile(path.join(PUBLIC, 'binary.bin')));
  // Text opens in the browser (a new tab), not as a download.
  const href = await row(page, 'hello.txt').locator('a.open').getAttribute('href');
  assert.equal(await row(page, 'hello.txt').locator('a.open').getAttribute('target'), '_blank');
  assert.equal(await page.evaluate(async (h) => (await fetch(h)).text(), href), 'Hello, world!\n');
  await page.goBack();
  await page.locator('#rows tr[data-name="note.txt"]').waitFor();
});

const up1 = {name: 'upload one.txt', mimeType: 'text/plain', buffer: Buffer.from('first upload ✓\n')};
const up2 = {name: 'données 2.bin', mimeType: 'application/octet-stream', buffer: randomBytes(700 * 1024 + 3)};

test('upload two files by the file input: progress, then the bytes are on the share', {timeout: 90000}, async () => {
  await page.setInputFiles('#file-input', [up1, up2]);
  await page.locator('#uploads').waitFor();
  await page.locator('#uploads-title:has-text("Uploads done (2)")').waitFor();
  const items = page.locator('#upload-list li');
  assert.equal(await items.count(), 2);
  for (let i = 0; i < 2; i++) {
    assert.equal(await items.nth(i).getAttribute('class'), 'done');
    assert.match(await items.nth(i).locator('.up-text').textContent(), /uploaded \(100%\)/);
  }
  await row(page, up1.name).waitFor();
  await row(page, up2.name).waitFor();
  await shot(page, '03-upload-done');
  const dir = path.join(PUBLIC, DOSSIER);
  assert.deepEqual(await readFile(path.join(dir, up1.name)), up1.buffer);
  assert.deepEqual(await readFile(path.join(dir, up2.name)), up2.buffer);
});

test('upload a file that exists: the user is asked, and replaces it', {timeout: 90000}, async () => {
  await page.click('#uploads-close');
  const again = {...up1, buffer: Buffer.from('second version\n')};
  await page.setInputFiles('#file-input', [again]);
  await page.locator('#dialog[open]:has-text("already exists")').waitFor();
  await shot(page, '04-upload-replace');
  await page.click('#dialog-ok');
  await page.locator('#upload-list li.done:has-text("replaced")').waitFor();
  assert.equal(await readFile(path.join(PUBLIC, DOSSIER, up1.name), 'utf8'), 'second version\n');
  await page.click('#uploads-close');
});

test('upload progress shows bytes and percent, and cancel stops the upload', {timeout: 90000}, async () => {
  const big = {name: 'slow big.bin', mimeType: 'application/octet-stream', buffer: randomBytes(6 * 1024 * 1024)};
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions',
    {offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 1024 * 1024});
  try {
    await page.setInputFiles('#file-input', [big]);
    const text = page.locator('#upload-list li.running .up-text');
    // Some bytes sent, not all: "1.2 MB of 6.0 MB (20%)".
    await page.waitForFunction(() => /\((?:[1-9]|[1-9]\d)%\)$/.test(document.querySelector('#upload-list li.running .up-text')?.textContent || ''));
    // The text and the bar read in one go: the upload moves on between two reads.
    const [label, bar] = await text.evaluate((e) =>
      [e.textContent, e.closest('li').querySelector('progress').value]);
    assert.match(label, /^[\d.]+ (KB|MB) of 6\.0 MB \([1-9]\d?%\)$/);
    assert.equal(bar, Number(/\((\d+)%\)/.exec(label)[1]));
    await shot(page, '05-upload-progress');
    await page.click('#upload-list li.running button:has-text("Cancel")');
    await page.locator('#upload-list li.failed:has-text("cancelled")').waitFor();
  } finally {
    await cdp.send('Network.emulateNetworkConditions',
      {offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1});
    await cdp.detach();
  }
  // An interrupted upload changes nothing on the share.
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await exists(path.join(PUBLIC, DOSSIER, big.name)), false);
  await page.click('#uploads-close');
});

test('create, rename and delete a folder (keyboard: Delete key)', {timeout: 90000}, async () => {
  const dir = path.join(PUBLIC, DOSSIER);
  await page.click('#btn-mkdir');
  await page.fill('#dialog-input', 'Nouveau dossier');
  await page.keyboard.press('Enter');
  await row(page, 'Nouveau dossier').waitFor();
  assert.ok((await stat(path.join(dir, 'Nouveau dossier'))).isDirectory());
  assert.match(await page.textContent('#message'), /created/);

  await row(page, 'Nouveau dossier').locator('input.sel').check();
  await page.click('#btn-rename');
  await page.fill('#dialog-input', 'Renommé ✓');
  await page.click('#dialog-ok');
  await row(page, 'Renommé ✓').waitFor();
  assert.equal(await exists(path.join(dir, 'Nouveau dossier')), false);
  assert.ok((await stat(path.join(dir, 'Renommé ✓'))).isDirectory());
  // Something inside, so the delete must be recursive.
  await writeFile(path.join(dir, 'Renommé ✓', 'inside.txt'), 'x');

  await row(page, 'Renommé ✓').locator('input.sel').check();
  await row(page, 'Renommé ✓').locator('a.open').focus();
  await page.keyboard.press('Delete');
  await page.locator('#dialog[open]:has-text("Delete “Renommé ✓”?")').waitFor();
  await page.click('#dialog-ok');
  await page.waitForFunction(() => !document.querySelector('#rows tr[data-name="Renommé ✓"]'));
  assert.equal(await exists(path.join(dir, 'Renommé ✓')), false);
});

test('copy and move a selection to another folder', {timeout: 90000}, async () => {
  await row(page, up1.name).locator('input.sel').check();
  await row(page, up2.name).locator('input.sel').check();
  assert.match(await page.textContent('#message'), /2 selected/);
  await page.click('#btn-copy');
  await page.fill('#dialog-input', '/nested');
  // The listing is fetched again after the copy (and the selection cleared):
  // wait for that answer before selecting anew.
  const relisted = page.waitForResponse((r) => r.request().method() === 'GET' &&
    decodeURIComponent(r.url()).endsWith(`/public/${DOSSIER}/`));
  await page.click('#dialog-ok');
  await page.locator('#message:has-text("Copied 2 items")').waitFor();
  await relisted;
  assert.equal(await readFile(path.join(PUBLIC, 'nested', up1.name), 'utf8'), 'second version\n');
  assert.deepEqual(await readFile(path.join(PUBLIC, 'nested', up2.name)), up2.buffer);
  assert.ok(await exists(path.join(PUBLIC, DOSSIER, up1.name)), 'copy keeps the source');

  // (the rows are drawn from that answer a moment later)
  for (let i = 0; i < 50; i++) {
    await row(page, up2.name).locator('input.sel').check();
    if (await page.isEnabled('#btn-move')) break;
    await page.waitForTimeout(100);
  }
  await page.click('#btn-move');
  await page.fill('#dialog-input', '/');
  await page.click('#dialog-ok');
  await page.locator('#message:has-text("Moved 1 item")').waitFor();
  assert.equal(await exists(path.join(PUBLIC, DOSSIER, up2.name)), false);
  assert.deepEqual(await readFile(path.join(PUBLIC, up2.name)), up2.buffer);
  // The listing refreshes after the message: wait for the row to go.
  await row(page, up2.name).waitFor({state: 'detached', timeout: 10000});
  assert.equal(await row(page, up2.name).count(), 0);
});

test('a 2000-entry folder: only the rows in sight are in the page, without layout shift', {timeout: 90000}, async () => {
  const big = path.join(PUBLIC, 'many');
  await mkdir(big, {recursive: true});
  await Promise.all(Array.from({length: 2000}, (_, i) => writeFile(path.join(big, `file ${String(i).padStart(4, '0')}.txt`), String(i))));
  await page.goto(`${BASE}/#/${SERVER}/public/many`);
  await page.evaluate(() => {
    window.__cls = 0;
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__cls += e.value; })
      .observe({type: 'layout-shift', buffered: true});
  });
  await page.locator('#rows tr[data-name="file 0000.txt"]').waitFor();
  assert.equal(await page.getAttribute('#table', 'aria-rowcount'), '2001');
  const drawn = await page.locator('#rows tr').count();
  assert.ok(drawn >= 10 && drawn <= 60, `${drawn} rows in the page`);
  await page.waitForTimeout(300);
  const cls = await page.evaluate(() => window.__cls);
  assert.ok(cls < 0.01, `cumulative layout shift ${cls}`);
  const heights = await page.$$eval('#rows tr', (trs) => new Set(trs.map((t) => t.getBoundingClientRect().height)).size);
  assert.equal(heights, 1, 'every row has the same height');
  // The page is as tall as 2000 rows: the last one is reached by scrolling.
  await page.$eval('#drop-zone', (z) => { z.scrollTop = z.scrollHeight; });
  const last = page.locator('#rows tr[data-name="file 1999.txt"]');
  await last.waitFor();
  assert.equal(await last.getAttribute('aria-rowindex'), '2001');
  assert.ok(await inSight(page, 'file 1999.txt'), 'the last row is in sight');
});

// Whether the row of `name` is drawn inside the listing's visible area.
const inSight = (p, name) => p.evaluate((n) => {
  const tr = [...document.querySelectorAll('#rows tr')].find((t) => t.dataset.name === n);
  if (!tr) return false;
  const r = tr.getBoundingClientRect(), z = document.getElementById('drop-zone').getBoundingClientRect();
  return r.top >= z.top && r.bottom <= z.bottom + 1;
}, name);

// Waits for the message "N selected"; else fails with what is ticked.
async function selected(p, n) {
  try {
    await p.locator(`#message:text-is("${n} selected")`).waitFor({timeout: 10000});
  } catch {
    assert.fail(`expected ${n} selected; the message says "${await p.textContent('#message')}", ` +
      `the rows ticked in the page: ${await p.$$eval('#rows tr.selected', (l) => l.map((t) => t.dataset.name))}`);
  }
}

const BIG = 'ten thousand';
const bigName = (i) => `file-${String(i).padStart(6, '0')}.txt`;

test('a 10 000-entry folder: scroll to the end, filter, tick a range (Shift-click, Shift+Space), delete it', {timeout: 180000}, async () => {
  // The folder belongs to alice (who deletes in it), its files too.
  const dir = path.join(PUBLIC, BIG);
  await mkdir(dir);
  const uid = Number(must('SAMBA_UID1')), gid = Number(must('SAMBA_GID'));
  await chown(dir, uid, gid);
  for (let i = 0; i < 10000; i += 500) {
    await Promise.all(Array.from({length: 500}, async (_, k) => {
      const f = path.join(dir, bigName(i + k));
      await writeFile(f, String(i + k));
      await chown(f, uid, gid);
    }));
  }
  await page.goto(`${BASE}/#/${SERVER}/public/${encodeURIComponent(BIG)}`);
  await page.locator(`#rows tr[data-name="${bigName(0)}"]`).waitFor();
  assert.equal(await page.getAttribute('#table', 'role'), 'grid');
  assert.equal(await page.getAttribute('#table', 'aria-rowcount'), '10001');
  assert.equal(await page.getAttribute('#table', 'aria-multiselectable'), 'true');
  assert.equal(await row(page, bigName(0)).getAttribute('aria-rowindex'), '2');
  assert.equal(await row(page, bigName(0)).getAttribute('aria-selected'), 'false');
  assert.ok(await page.locator('#rows tr').count() <= 60, 'only the rows in sight are in the page');

  // Scroll to the end: the last entry is there, at its row index.
  await page.$eval('#drop-zone', (z) => { z.scrollTop = z.scrollHeight; });
  await row(page, bigName(9999)).waitFor();
  assert.ok(await inSight(page, bigName(9999)));
  assert.equal(await row(page, bigName(9999)).getAttribute('aria-rowindex'), '10001');
  assert.equal(await row(page, bigName(0)).count(), 0, 'the first row left the page');
  await shot(page, '08-ten-thousand-end');
  // The keyboard: Home and End go to either end, ↓ scrolls along.
  await row(page, bigName(9999)).locator('a.open').focus();
  await page.keyboard.press('Home');
  assert.equal(await page.evaluate(() => document.activeElement.closest('tr')?.dataset.name), bigName(0));
  assert.ok(await inSight(page, bigName(0)));
  for (let i = 0; i < 30; i++) await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(() => document.activeElement.closest('tr')?.dataset.name), bigName(30));
  assert.ok(await inSight(page, bigName(30)));
  await page.keyboard.press('End');
  assert.equal(await page.evaluate(() => document.activeElement.closest('tr')?.dataset.name), bigName(9999));

  // Filter: 100 names contain "file-0042".
  await page.fill('#filter', 'file-0042');
  await page.waitForFunction(() => document.getElementById('table').getAttribute('aria-rowcount') === '101');
  assert.equal((await rowNames(page))[0], bigName(4200));

  // A range by Shift-click on the ticks (the second one scrolled to).
  await row(page, bigName(4210)).locator('input.sel').click();
  await page.locator('#message:has-text("1 selected")').waitFor();
  await row(page, bigName(4219)).locator('input.sel').click({modifiers: ['Shift']});
  await selected(page, 10);
  for (let i = 4210; i <= 4219; i++) assert.equal(await row(page, bigName(i)).getAttribute('aria-selected'), 'true');
  assert.equal(await row(page, bigName(4209)).getAttribute('aria-selected'), 'false');
  // And by the keyboard: ↓ down to 4250 (out of sight: the listing
  // scrolls along), Space ticks, ↓ ↓, Shift+Space ticks the range.
  await row(page, bigName(4219)).locator('a.open').focus();
  for (let i = 4219; i < 4250; i++) await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(() => document.activeElement.closest('tr')?.dataset.name), bigName(4250));
  assert.ok(await inSight(page, bigName(4250)));
  await page.keyboard.press('Space');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Shift+Space');
  await selected(page, 13);
  assert.equal(await page.$eval('#check-all', (c) => c.indeterminate), true);
  await shot(page, '09-ten-thousand-range');

  // Delete (the key): the dialog lists the 13, then they are gone from the share.
  const gone = [...Array.from({length: 10}, (_, k) => bigName(4210 + k)), bigName(4250), bigName(4251), bigName(4252)];
  await page.keyboard.press('Delete');
  await page.locator('#dialog[open]:has-text("Delete 13 items?")').waitFor();
  assert.deepEqual(await page.$$eval('#dialog-list li', (l) => l.map((x) => x.textContent).sort()), gone);
  await page.click('#dialog-ok');
  await page.locator('#message:has-text("Deleted 13 items.")').waitFor();
  await page.waitForFunction(() => document.getElementById('table').getAttribute('aria-rowcount') === '88');
  const left = new Set(await readdir(dir));
  assert.equal(left.size, 10000 - 13);
  for (const n of gone) assert.equal(left.has(n), false, `${n} deleted`);
  for (const i of [0, 4209, 4220, 4249, 4253, 9999]) assert.ok(left.has(bigName(i)), `${bigName(i)} kept`);
  assert.equal(await row(page, bigName(4210)).count(), 0);
  await page.fill('#filter', '');
  await page.waitForFunction(() => document.getElementById('table').getAttribute('aria-rowcount') === '9988');
});

test('a phone-sized screen: no horizontal scrolling', {timeout: 90000}, async () => {
  const phone = await browser.newContext({viewport: {width: 375, height: 720}, isMobile: true, hasTouch: true,
    storageState: await context.storageState()});
  const p = await newPage(phone);
  await p.goto(`${BASE}/#/${SERVER}/public`);
  await p.locator('#rows tr[data-name="hello.txt"]').waitFor();
  assert.ok(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1));
  await p.screenshot({path: path.join(SHOTS, '06-phone.png')});
  // The 10 000-entry folder (less the 13 deleted): its end is reached on a phone too.
  await p.goto(`${BASE}/#/${SERVER}/public/${encodeURIComponent(BIG)}`);
  await p.locator(`#rows tr[data-name="${bigName(0)}"]`).waitFor();
  await p.$eval('#drop-zone', (z) => { z.scrollTop = z.scrollHeight; });
  await p.locator(`#rows tr[data-name="${bigName(9999)}"]`).waitFor();
  assert.ok(await inSight(p, bigName(9999)));
  assert.equal(await p.getAttribute(`#rows tr[data-name="${bigName(9999)}"]`, 'aria-rowindex'), '9988');
  assert.ok(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1));
  await phone.close();
});

const sha256 = (b) => createHash('sha256').update(b).digest('hex');
// Records every text the upload panel's rows show (a label such as
// "– resumed" may be on screen for a tenth of a second, too short for a
// polling wait): returns a function that resolves with the texts of the
// row of `name`, in order, each once.
async function recordRowTexts(p) {
  await p.evaluate(() => {
    window.__rowTexts = [];
    const seen = (li) => {
      const name = li?.querySelector('.up-name')?.textContent;
      const text = li?.querySelector('.up-text')?.textContent;
      if (name === undefined || text === undefined) return;
      const last = window.__rowTexts.findLast((e) => e.name === name);
      if (!last || last.text !== text) window.__rowTexts.push({name, text});
    };
    new MutationObserver((ms) => {
      for (const m of ms) {
        const t = m.target.nodeType === 1 ? m.target : m.target.parentElement;
        if (t?.matches('#upload-list')) for (const n of m.addedNodes) seen(n);
        else seen(t?.closest('#upload-list li'));
      }
    }).observe(document.getElementById('upload-list'), {subtree: true, childList: true, characterData: true});
  });
  return (name) => p.evaluate((n) => window.__rowTexts.filter((e) => e.name === n).map((e) => e.text), name);
}
// Records the tus requests of the page: "METHOD offset" (PATCH) or "METHOD".
function recordTus(p) {
  const seq = [];
  const onReq = (r) => {
    if (!r.url().includes('/api/v1/uploads/')) return;
    const off = r.headers()['upload-offset'];
    seq.push(r.method() + (r.method() === 'PATCH' ? ' ' + off : ''));
  };
  p.on('request', onReq);
  return {seq, stop: () => p.off('request', onReq)};
}
const MiB = 1024 * 1024;
const goFolder = async (segs, waitName) => {
  await page.goto(`${BASE}/#/${[SERVER, ...segs].map(encodeURIComponent).join('/')}`);
  await row(page, waitName).waitFor();
};
// The names of a zip file (unzip -Z1) and one member's bytes.
const zipNames = (file) => execFileSync('unzip', ['-Z1', file]).toString().split('\n').filter(Boolean).sort();
const zipRead = (file, name) => execFileSync('unzip', ['-p', file, name]);

test('download a folder, then a selection, as zip', {timeout: 90000}, async () => {
  await goFolder(['public', 'nested'], 'level 1');
  let [dl] = await Promise.all([page.waitForEvent('download'), page.click('#btn-zip')]);
  assert.equal(dl.suggestedFilename(), 'nested.zip');
  const f1 = path.join(SHOTS, 'nested.zip');
  await dl.saveAs(f1);
  const n1 = zipNames(f1); // earlier scenarios may have added files: at least these
  for (const n of ['nested/', 'nested/level 1/', 'nested/level 1/level 2/',
    'nested/level 1/level 2/deep file.txt', 'nested/level 1/sibling.txt']) assert.ok(n1.includes(n), n);
  assert.ok(n1.every((n) => n.startsWith('nested/')), n1.join(','));
  assert.equal(zipRead(f1, 'nested/level 1/level 2/deep file.txt').toString(), 'deep\n');
  // a selection of the share's root: only what is ticked
  await goFolder(['public'], 'hello.txt');
  await row(page, 'hello.txt').locator('input.sel').check();
  await row(page, DOSSIER).locator('input.sel').check();
  [dl] = await Promise.all([page.waitForEvent('download'), page.click('#btn-zip')]);
  assert.equal(dl.suggestedFilename(), 'public.zip');
  const f2 = path.join(SHOTS, 'selection.zip');
  await dl.saveAs(f2);
  const names = zipNames(f2);
  assert.ok(names.includes('hello.txt') && names.includes(DOSSIER + '/note.txt'), names.join(','));
  assert.ok(!names.some((n) => n.startsWith('nested')), names.join(','));
  assert.equal(zipRead(f2, 'hello.txt').toString(), 'Hello, world!\n');
  await page.locator('#message:has-text("downloaded")').waitFor();
  await shot(page, '20-zip');
});

test('search in this folder and below: results while they come, each opens its place', {timeout: 90000}, async () => {
  await goFolder(['public'], 'hello.txt');
  await page.fill('#search', 'DEEP');
  await page.press('#search', 'Enter');
  await page.locator('#search-status:has-text("1 found")').waitFor();
  const items = page.locator('#search-list li');
  assert.equal(await items.count(), 1);
  assert.equal(await items.first().getAttribute('data-path'),
    `/${SERVER}/public/nested/level 1/level 2/deep file.txt`);
  await shot(page, '21-search');
  // its folder opens
  await items.first().locator('a.where').click();
  await row(page, 'deep file.txt').waitFor();
  assert.equal(decodeURIComponent(new URL(page.url()).hash), `#/${SERVER}/public/nested/level 1/level 2`);
  assert.equal(await page.isVisible('#search-panel'), false);
  // a pattern, from a sub-folder; nothing found says so
  await goFolder(['public', 'nested', 'level 1'], 'sibling.txt');
  await page.fill('#search', '*.TXT');
  await page.press('#search', 'Enter');
  await page.locator('#search-status:has-text("2 found")').waitFor();
  await page.fill('#search', 'no such name');
  await page.press('#search', 'Enter');
  await page.locator('#search-status:has-text("0 found")').waitFor();
  await page.click('#search-close');
  assert.equal(await page.isVisible('#search-panel'), false);
});

test('a big file goes resumable (tus): a cut connection, then it resumes to the same bytes', {timeout: 120000}, async () => {
  await goFolder(['public', DOSSIER], 'note.txt');
  const big = path.join(os.tmpdir(), `smbgate-tus-${process.pid}.bin`);
  const data = randomBytes(20 * 1024 * 1024 + 5);
  await writeFile(big, data);
  // The second PATCH is cut: the client asks HEAD where it is and goes on.
  // What the row showed and the requests sent are recorded and checked once
  // the upload is done (the row's "– resumed" lasts a few hundred ms).
  const texts = await recordRowTexts(page);
  const tus = recordTus(page);
  patchPlan = {seen: 0, fail: 2};
  try {
    await page.setInputFiles('#file-input', big);
    const li = page.locator('#upload-list li', {hasText: path.basename(big)});
    await page.locator('#uploads-title:has-text("Uploads done")').waitFor({timeout: 60000});
    assert.equal(await li.getAttribute('class'), 'done');
  } finally {
    patchPlan = null;
    tus.stop();
  }
  assert.deepEqual(tus.seq, ['POST', 'PATCH 0', `PATCH ${8 * MiB}`, 'HEAD', `PATCH ${8 * MiB}`, `PATCH ${16 * MiB}`]);
  const shown = await texts(path.basename(big));
  const lost = shown.indexOf('connection lost – resuming (1/5)…');
  assert.ok(lost > 0, shown.join(' | '));
  assert.ok(shown.slice(0, lost).every((t) => !t.endsWith(' – resumed')), shown.join(' | '));
  assert.ok(shown.slice(lost + 1, -1).length > 0 && shown.slice(lost + 1, -1).every((t) => t.endsWith(' – resumed')),
    shown.join(' | '));
  assert.equal(shown.at(-1), '20 MB – uploaded (100%)');
  const dir = path.join(PUBLIC, DOSSIER);
  assert.equal(sha256(await readFile(path.join(dir, path.basename(big)))), sha256(data));
  assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.~smbgate-')), []);
  assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('smbgate.tus.')).length), 0);
  await rm(big);
  await shot(page, '22-tus');
});

test('a big upload resumes after a reload of the page from the offset the gateway holds', {timeout: 120000}, async () => {
  await goFolder(['public', DOSSIER], 'note.txt');
  const big = path.join(os.tmpdir(), `smbgate-tus-reload-${process.pid}.bin`);
  const data = randomBytes(20 * 1024 * 1024 + 11);
  await writeFile(big, data);
  const name = path.basename(big);
  const dir = path.join(PUBLIC, DOSSIER);
  const tusKeys = () => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('smbgate.tus.')));
  // The first 8 MiB piece goes through; the second is held back, then the
  // page is reloaded under it.
  let held;
  const heldNow = new Promise((resolve) => { held = resolve; });
  patchPlan = {seen: 0, hold: 2, held};
  const onDialog = (d) => d.accept(); // "leave the page while uploading?"
  page.on('dialog', onDialog);
  try {
    await page.setInputFiles('#file-input', big);
    await heldNow;
    assert.equal((await tusKeys()).length, 1);
    const tmps = (await readdir(dir)).filter((n) => n.startsWith('.~smbgate-new-'));
    assert.equal(tmps.length, 1, tmps.join(','));
    assert.equal((await stat(path.join(dir, tmps[0]))).size, 8 * 1024 * 1024);
    assert.equal(await exists(path.join(dir, name)), false);
    patchPlan = null;
    await page.reload();
    await row(page, 'note.txt').waitFor();
  } finally {
    patchPlan = null;
    page.off('dialog', onDialog);
  }
  // After the reload: the upload's address is still known, the uploads panel
  // says how to resume it; the same file chosen again asks the gateway where
  // it stands and sends only the rest.
  assert.equal((await tusKeys()).length, 1);
  const pending = page.locator('#upload-list li.unfinished', {hasText: name});
  await pending.waitFor();
  assert.equal(await pending.locator('.up-text').textContent(),
    `not finished (20 MB) – choose it again in /${SERVER}/public/${DOSSIER} to resume`);
  assert.equal(await page.textContent('#uploads-title'), 'Unfinished uploads');
  await shot(page, '23-tus-unfinished');
  const texts = await recordRowTexts(page);
  const tus = recordTus(page);
  try {
    const head = page.waitForResponse((r) => r.request().method() === 'HEAD' && r.url().includes('/api/v1/uploads/'));
    await page.setInputFiles('#file-input', big);
    const h = await head;
    assert.equal(h.status(), 200);
    assert.equal(h.headers()['upload-offset'], String(8 * 1024 * 1024));
    const li = page.locator('#upload-list li:not(.unfinished)', {hasText: name});
    await page.locator('#uploads-title:has-text("Uploads done")').waitFor({timeout: 60000});
    assert.equal(await page.locator('#upload-list li.unfinished').count(), 0);
    assert.equal(await li.getAttribute('class'), 'done');
    await shot(page, '23-tus-reload');
  } finally {
    tus.stop();
  }
  assert.deepEqual(tus.seq, ['HEAD', `PATCH ${8 * MiB}`, `PATCH ${16 * MiB}`]); // never from 0
  // The row said where it resumed from (8 MB of 20 MB) before any new byte.
  const shown = await texts(name);
  assert.ok(shown.includes('8.0 MB of 20 MB (39%) – resumed'), shown.join(' | '));
  assert.equal(shown.at(-1), '20 MB – uploaded (100%)');
  assert.equal(sha256(await readFile(path.join(dir, name))), sha256(data));
  assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.~smbgate-')), []);
  assert.deepEqual(await tusKeys(), []);
  await rm(big);
  // An unfinished upload the user gives up: Discard removes its temporary.
  await page.evaluate(async ({server, dossier}) => {
    const b64 = (x) => btoa(String.fromCharCode(...new TextEncoder().encode(x)));
    const r = await fetch('/api/v1/uploads/', {method: 'POST', credentials: 'same-origin', headers: {
      'Tus-Resumable': '1.0.0', 'X-Requested-With': 'smbgate', 'Upload-Length': '100',
      'Upload-Metadata': `server ${b64(server)},share ${b64('public')},path ${b64('/' + dossier + '/given-up.bin')}`}});
    localStorage.setItem('smbgate.tus.' + [server, 'public', dossier].join('/') + '\ngiven-up.bin\n100\n1\nfalse',
      r.headers.get('Location'));
  }, {server: SERVER, dossier: DOSSIER});
  assert.equal((await readdir(dir)).filter((n) => n.startsWith('.~smbgate-new-')).length, 1);
  await page.reload();
  const gone = page.locator('#upload-list li.unfinished', {hasText: 'given-up.bin'});
  await gone.locator('button:has-text("Discard")').click();
  await gone.waitFor({state: 'detached'});
  for (let i = 0; i < 50 && (await readdir(dir)).some((n) => n.startsWith('.~smbgate-')); i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.~smbgate-')), []);
  assert.deepEqual(await tusKeys(), []);
  // The panel closes once the DELETE is answered (after the row went).
  await page.locator('#uploads').waitFor({state: 'hidden', timeout: 10000});
});

test('a busy upload (423) is waited for as Retry-After says, then resumed', {timeout: 120000}, async () => {
  await goFolder(['public', DOSSIER], 'note.txt');
  const big = path.join(os.tmpdir(), `smbgate-tus-busy-${process.pid}.bin`);
  const data = randomBytes(9 * MiB + 3);
  await writeFile(big, data);
  const name = path.basename(big);
  const dir = path.join(PUBLIC, DOSSIER);
  // The upload is created, its first PATCH held back, the page reloaded.
  let held;
  const heldNow = new Promise((resolve) => { held = resolve; });
  patchPlan = {seen: 0, hold: 1, held};
  const onDialog = (d) => d.accept();
  page.on('dialog', onDialog);
  try {
    await page.setInputFiles('#file-input', big);
    await heldNow;
    patchPlan = null;
    await page.reload();
    await row(page, 'note.txt').waitFor();
  } finally {
    patchPlan = null;
    page.off('dialog', onDialog);
  }
  const url = await page.evaluate(() => Object.entries(localStorage).find(([k]) => k.startsWith('smbgate.tus.'))?.[1]);
  assert.match(url, /^\/api\/v1\/uploads\/[0-9a-f]{32}$/);
  // Another session of alice writes 1 MiB to it, then stays silent: the
  // upload is busy for the page (423, Retry-After 5) until that one ends.
  const login = await fetch(BASE + '/api/v1/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({username: ALICE[0], password: ALICE[1], server: SERVER})});
  assert.equal(login.status, 200);
  const token = (await login.json()).token;
  const {hostname, port} = new URL(BASE);
  const other = net.connect(Number(port), hostname);
  await new Promise((r) => other.once('connect', r));
  other.on('error', () => {});
  other.write(`PATCH ${url} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nTus-Resumable: 1.0.0\r\n` +
    `Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: ${data.length}\r\n\r\n`);
  other.write(data.subarray(0, MiB));
  await new Promise((r) => setTimeout(r, 500));
  const texts = await recordRowTexts(page);
  const tus = recordTus(page);
  const answers = [];
  let headOk = 0;
  const onResp = (r) => {
    if (!r.url().includes('/api/v1/uploads/')) return;
    answers.push(`${r.request().method()} ${r.status()}`);
    if (r.request().method() === 'HEAD' && r.status() === 200) headOk ||= Date.now();
  };
  page.on('response', onResp);
  let ended;
  try {
    await page.setInputFiles('#file-input', big);
    // The other writer ends after 7 s (its connection closed): what it sent is kept.
    await new Promise((r) => setTimeout(r, 7000));
    ended = Date.now();
    other.destroy();
    await page.locator('#uploads-title:has-text("Uploads done")').waitFor({timeout: 60000});
  } finally {
    tus.stop();
    page.off('response', onResp);
    other.destroy();
  }
  const took = headOk - ended;
  // HEADs answered 423 (not counted as failures, no new upload), then 200,
  // then only the rest from where the other writer stopped.
  const heads = tus.seq.filter((x) => x === 'HEAD').length;
  assert.ok(heads >= 2, tus.seq.join(','));
  assert.deepEqual(tus.seq, [...Array(heads).fill('HEAD'), `PATCH ${MiB}`, `PATCH ${9 * MiB}`], tus.seq.join(','));
  assert.deepEqual(answers.slice(0, heads), [...Array(heads - 1).fill('HEAD 423'), 'HEAD 200']);
  assert.ok(took > 0 && took < 7000, `HEAD 200 ${took} ms after the other writer ended (Retry-After 5)`);
  const shown = await texts(name);
  assert.ok(shown.includes('waiting for the gateway to release the interrupted request…'), shown.join(' | '));
  assert.equal(shown.at(-1), '9.0 MB – uploaded (100%)');
  assert.equal(sha256(await readFile(path.join(dir, name))), sha256(data));
  assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.~smbgate-')), []);
  await rm(big);
  await page.click('#uploads-close');
});

test('session expiry: back to the login form, then to the same place', {timeout: 90000}, async () => {
  await page.goto(`${BASE}/#/${SERVER}/public/nested`);
  await page.locator('#rows tr[data-name="level 1"]').waitFor();
  await context.clearCookies();
  await row(page, 'level 1').locator('a.open').click();
  await page.locator('#login-view').waitFor();
  assert.match(await page.textContent('#login-notice'), /session has ended/);
  await page.fill('#login-pass', ALICE[1]);
  await page.click('#login-submit');
  await page.locator('#rows tr[data-name="sibling.txt"]').waitFor();
  assert.equal(new URL(page.url()).hash, `#/${SERVER}/public/nested/level%201`);
});

test('log out: back to the login form, and the old session cookie no longer works', {timeout: 90000}, async () => {
  const cookie = (await context.cookies()).find((c) => c.name === 'smbgate_session');
  assert.ok(cookie, 'the session cookie is set');
  assert.equal(cookie.httpOnly, true);
  let r = await fetch(BASE + '/api/v1/fs/', {headers: {Cookie: `${cookie.name}=${cookie.value}`}});
  assert.equal(r.status, 200);
  await page.click('#logout');
  await page.locator('#login-view').waitFor();
  assert.match(await page.textContent('#login-notice'), /signed out/);
  r = await fetch(BASE + '/api/v1/fs/', {headers: {Cookie: `${cookie.name}=${cookie.value}`}});
  assert.equal(r.status, 401);
});

test('bob opens alice_private: "Access denied"', {timeout: 90000}, async () => {
  const ctx = await browser.newContext({viewport: {width: 1200, height: 760}});
  const p = await newPage(ctx);
  await p.goto(`${BASE}/#/${SERVER}/alice_private`);
  await login(p, BOB);
  const st = p.locator('#state.is-error');
  await st.waitFor();
  assert.equal(await st.locator('h2').textContent(), 'Access denied');
  assert.match(await st.locator('p').textContent(), /bob.*do not have permission to open “alice_private”/);
  assert.equal(await p.locator('#rows tr').count(), 0);
  await p.screenshot({path: path.join(SHOTS, '07-access-denied.png')});
  // "Go up" leads back to the shares.
  await p.click('#state-action');
  await p.locator('#rows tr[data-name="public"]').waitFor();
  await ctx.close();
});

test('a 9th login of bob ends his least recently used session: the new one gets in, the old tab is sent to the login form', {timeout: 120000}, async () => {
  const apiLogin = async () => {
    const r = await fetch(BASE + '/api/v1/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({username: BOB[0], password: BOB[1]})});
    assert.equal(r.status, 200);
    return (await r.json()).token;
  };
  const status = async (tok) => (await fetch(BASE + '/api/v1/fs/', {headers: {Authorization: `Bearer ${tok}`}})).status;
  // the oldest: a browser tab of bob's
  const ctxA = await browser.newContext({viewport: {width: 1200, height: 760}});
  const a = await newPage(ctxA);
  await a.goto(`${BASE}/#/${SERVER}`);
  await login(a, BOB);
  await a.locator('#rows tr[data-name="public"]').waitFor();
  // seven more sessions: bob has his 8
  const tokens = [];
  for (let i = 0; i < 7; i++) tokens.push(await apiLogin());
  // the 9th, in another browser: it gets in
  const ctxB = await browser.newContext({viewport: {width: 1200, height: 760}});
  const b = await newPage(ctxB);
  await b.goto(`${BASE}/#/${SERVER}`);
  await login(b, [BOB[0].toUpperCase(), BOB[1]]);
  await b.locator('#rows tr[data-name="public"]').waitFor();
  assert.equal(await b.isVisible('#login-error'), false);
  // the first tab's session was the one ended: its next step is the login form
  await row(a, 'public').locator('a.open').click();
  await a.locator('#login-view').waitFor();
  assert.match(await a.textContent('#login-notice'), /session has ended/);
  // the seven others still work
  for (const t of tokens) assert.equal(await status(t), 200);
  for (const t of tokens) await fetch(BASE + '/api/v1/logout', {method: 'POST', headers: {Authorization: `Bearer ${t}`}});
  await b.click('#logout');
  await b.locator('#login-view').waitFor();
  await ctxA.close();
  await ctxB.close();
});

test('no script error or CSP violation in the page', () => {
  assert.deepEqual(pageErrors, []);
});

test('the UI\'s API calls get no Basic challenge (no browser sign-in prompt)', async () => {
    const r = await fetch(BASE + '/api/v1/fs/', {headers: {'X-Requested-With': 'smbgate'}});
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), null);
    assert.equal(basicPrompts, 0, `${basicPrompts} browser sign-in prompts were cancelled`);
  });
