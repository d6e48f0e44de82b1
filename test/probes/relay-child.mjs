// Run by test/http-relay.test.ts as a process-tier child speaking the job protocol by
// hand: `polite` asks for two URLs one after the other, reading each answer first;
// `greedy` asks for both at once without reading (a child past its own wasm);
// `bulky` is polite, POSTing a 6 MiB body with each request.
import { readSync, writeSync } from 'node:fs';

const [mode, ...urls] = process.argv.slice(2);
const send = (m) => writeSync(1, `${JSON.stringify(m)}\n`);
const BULK = mode === 'bulky' ? { method: 'POST', body: Buffer.alloc(6 << 20, 98).toString('base64') } : { method: 'GET' };
// A request to /hang asks for 10 minutes: only a cancel ends it within a test's time.
const timeoutMs = (url) => (url.endsWith('/hang') ? 600_000 : 5000);
const fetchLine = (url) => ({ type: 'fetch', req: { url, headers: [], timeoutMs: timeoutMs(url), maxResponseBytes: 1 << 20, ...BULK } });
let pending = '';
const readLine = () => {
  const buf = Buffer.alloc(1 << 16);
  while (!pending.includes('\n')) {
    const n = readSync(0, buf, 0, buf.length, null);
    if (n === 0) throw new Error('stdin closed');
    pending += buf.subarray(0, n).toString('utf8');
  }
  const at = pending.indexOf('\n');
  const line = pending.slice(0, at);
  pending = pending.slice(at + 1);
  return line;
};
send({ type: 'ready' }); // the handshake, before the job is read
readLine(); // the job
send({ type: 'started' });
if (mode === 'greedy') {
  // All in one write (under PIPE_BUF: one chunk), so the parent sees the second before it can answer the first.
  writeSync(1, urls.map((url) => `${JSON.stringify(fetchLine(url))}\n`).join(''));
  setInterval(() => {}, 1000); // waits to be killed
} else {
  const bodies = urls.map((url) => {
    send(fetchLine(url));
    const r = JSON.parse(readLine());
    return r.ok ? Buffer.from(r.body, 'base64').toString() : r.code;
  });
  const result = { outcome: { ok: true, value: JSON.stringify(bodies) }, stdout: '', stderr: '', truncated: false, logs: [], denials: [], memoryBytes: 0 };
  send({ type: 'result', result });
}
