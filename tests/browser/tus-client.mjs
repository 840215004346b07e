// tus-js-client (from npm, pinned by package-lock.json) in Node uploads a
// file to the gateway's /api/v1/uploads/. Started by
// tests/integration/test_tus_client.py, which puts a TCP proxy that cuts the
// connection between this client and the gateway.
//
//   node tus-client.mjs BASE_URL TOKEN FILE SERVER SHARE PATH
//
// Prints one JSON line on success: {"url", "offset", "errors": [...],
// "resumedFrom": [offsets HEAD reported after each error]}. Exits 1 on a
// failed upload (the error on stderr).
import {readFile} from 'node:fs/promises';
import {Upload} from 'tus-js-client';

const [base, token, file, server, share, target] = process.argv.slice(2);
if (!target) {
  console.error('usage: node tus-client.mjs BASE_URL TOKEN FILE SERVER SHARE PATH');
  process.exit(2);
}
const data = await readFile(file);
const errors = [];
const resumedFrom = [];
let lastError = false;

const upload = new Upload(data, {
  endpoint: base + '/api/v1/uploads/',
  headers: {Authorization: 'Bearer ' + token},
  metadata: {server, share, path: target, overwrite: '0'},
  uploadSize: data.length,
  // One PATCH for the whole file: a cut lands in the middle of a body.
  chunkSize: Infinity,
  retryDelays: [0, 300, 1000, 2000, 3000, 5000],
  storeFingerprintForResuming: false,
  onShouldRetry(err) {
    const st = err.originalResponse ? err.originalResponse.getStatus() : 0;
    errors.push(st ? `status ${st}` : String(err.message || err).split(', originated')[0]);
    lastError = true;
    // tus-js-client's own rule: a network error, 409, 423 or 5xx is retried.
    return st === 0 || st === 409 || st === 423 || st >= 500;
  },
  onAfterResponse(req, res) {
    // The HEAD that follows an error: where the gateway says the upload is.
    if (lastError && req.getMethod() === 'HEAD' && res.getStatus() === 200) {
      resumedFrom.push(Number(res.getHeader('Upload-Offset')));
      lastError = false;
    }
  },
});

await new Promise((resolve, reject) => {
  upload.options.onError = reject;
  upload.options.onSuccess = resolve;
  upload.start();
}).then(() => {
  console.log(JSON.stringify({url: upload.url, offset: upload._offset, errors, resumedFrom}));
}, (err) => {
  console.error('tus-client: upload failed: ' + err);
  console.error(JSON.stringify({url: upload.url, errors, resumedFrom}));
  process.exit(1);
});
