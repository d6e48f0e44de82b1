// A synchronous fetch for host functions (no JSPI on Node 20): the request goes
// to a helper thread that runs Node's fetch (undici); the calling thread blocks
// in Atomics.wait until the helper posts the answer, then takes it with
// receiveMessageOnPort. The wait is in short slices, so a worker being
// terminated for a wall-clock TIMEOUT is never stuck here; the helper is a
// child of the calling thread and ends with it. One request per call: redirects
// come back to the caller (redirect: 'manual'), which re-checks each location.
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';

export interface FetchRequest {
  url: string;
  method: string;
  headers: [string, string][];
  body?: Uint8Array;
  timeoutMs: number;
  maxResponseBytes: number;
}

export type FetchResult = { ok: true; status: number; headers: [string, string][]; body: Uint8Array } | { ok: false; code: string; message: string };

// CommonJS, evaluated in the helper thread. Kept small: no capsule code runs there.
const HELPER = `
const { parentPort } = require('node:worker_threads');
function codeOf(e) {
  const c = (e && e.cause && e.cause.code) || (e && e.code) || '';
  if (e && (e.name === 'TimeoutError' || e.name === 'AbortError')) return 'HTTP-response-timeout';
  if (c === 'ECONNREFUSED') return 'connection-refused';
  if (c === 'ENOTFOUND' || c === 'EAI_AGAIN') return 'destination-not-found';
  if (c === 'ECONNRESET' || c === 'UND_ERR_SOCKET') return 'connection-terminated';
  if (c === 'ETIMEDOUT' || c === 'UND_ERR_CONNECT_TIMEOUT') return 'connection-timeout';
  if (String(c).startsWith('ERR_TLS') || String(c).includes('CERT')) return 'TLS-certificate-error';
  return 'internal-error';
}
async function run(req, signal) {
  const res = await fetch(req.url, {
    method: req.method,
    headers: req.headers,
    body: req.body && req.body.length ? req.body : undefined,
    redirect: 'manual',
    signal,
  });
  const chunks = [];
  let size = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > req.maxResponseBytes) {
        await reader.cancel();
        return { ok: false, code: 'HTTP-response-body-size', message: 'response body over ' + req.maxResponseBytes + ' bytes' };
      }
      chunks.push(value);
    }
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) { body.set(c, at); at += c.length; }
  return { ok: true, status: res.status, headers: [...res.headers], body };
}
parentPort.on('message', async ({ req, flag, port }) => {
  // Any message on the port cancels the request (its caller is gone).
  const cancel = new AbortController();
  port.once('message', () => cancel.abort());
  let result;
  try { result = await run(req, AbortSignal.any([cancel.signal, AbortSignal.timeout(req.timeoutMs)])); }
  catch (e) { result = { ok: false, code: codeOf(e), message: String(e && e.message || e) }; }
  port.postMessage(result);
  port.close();
  if (flag) {
    const f = new Int32Array(flag);
    Atomics.store(f, 0, 1);
    Atomics.notify(f, 0);
  }
});
`;

let helper: Worker | undefined;

function getHelper(): Worker {
  if (!helper) {
    helper = new Worker(HELPER, { eval: true });
    helper.unref(); // never keeps the process (or a pool worker) alive
    helper.on('error', () => {
      helper = undefined;
    });
    helper.on('exit', () => {
      helper = undefined;
    });
  }
  return helper;
}

/** Hands `req` to the helper; the answer comes on the returned port (and `flag` is set to 1 then, if given). */
function ask(req: FetchRequest, flag?: Int32Array): MessagePort {
  const { port1, port2 } = new MessageChannel();
  getHelper().postMessage({ req, flag: flag?.buffer, port: port2 }, [port2]);
  return port1;
}

const noAnswer: FetchResult = { ok: false, code: 'HTTP-response-timeout', message: 'no answer in time' };

/** Blocks the calling thread until the helper answers or `timeoutMs` (+1 s slack) passes. */
export function fetchSync(req: FetchRequest): FetchResult {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const port = ask(req, flag);
  try {
    const deadline = Date.now() + req.timeoutMs + 1000;
    while (Atomics.load(flag, 0) === 0) {
      if (Date.now() > deadline) return noAnswer;
      Atomics.wait(flag, 0, 0, 50);
    }
    const got = receiveMessageOnPort(port);
    return got ? (got.message as FetchResult) : { ok: false, code: 'internal-error', message: 'no answer from the fetch helper' };
  } finally {
    port.close();
  }
}

/**
 * The same request on the same helper, without blocking: for a parent answering a
 * process-tier child's request (sandbox/net/relay.ts) on its main thread. `signal`
 * cancels it (the child is gone): the helper aborts the fetch.
 */
export function fetchAsync(req: FetchRequest, signal?: AbortSignal): Promise<FetchResult> {
  if (signal?.aborted) return Promise.resolve({ ok: false, code: 'internal-error', message: 'cancelled' });
  return new Promise<FetchResult>((resolve) => {
    let port: MessagePort | undefined;
    const finish = (r: FetchResult) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      port?.close();
      resolve(r);
    };
    const onAbort = () => {
      port?.postMessage('cancel');
      finish({ ok: false, code: 'internal-error', message: 'cancelled' });
    };
    const timer = setTimeout(() => finish(noAnswer), req.timeoutMs + 1000);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      port = ask(req);
      port.once('message', (m: FetchResult) => finish(m));
    } catch (e) {
      finish({ ok: false, code: 'internal-error', message: `the fetch helper is gone: ${e instanceof Error ? e.message : String(e)}` });
    }
  });
}
