// The main-thread side of app host calls from a worker (sandbox/host/remote.ts):
// one bridge per call that uses app host functions. It runs the app's function
// (sync or async) for each request on the port, refuses a result over the call's
// memory limit before copying it, posts the reply and wakes the blocked worker.
// cancel() (the call's TIMEOUT or abort) wakes it with a `cancelled` reply at once,
// so the guest stops while the app's function may still be running; whatever that
// function resolves to later is dropped.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { HostTable } from '../host-functions.js';
import { resultReply, thrown } from '../sandbox/host/app.js';
import type { HostPort, HostReply } from '../sandbox/job.js';

interface Request {
  iface: string;
  fn: string;
  args: unknown[];
}

export class HostBridge {
  private readonly mine: MessagePort;
  /** Given to the worker with the job (transferred). */
  readonly theirs: HostPort;
  private done = false;
  /** The request being served: a reply to it is still owed. */
  private pending = false;

  constructor(
    private readonly table: HostTable,
    private readonly limitBytes: number,
  ) {
    const { port1, port2 } = new MessageChannel();
    this.mine = port1;
    this.theirs = { port: port2, signal: new Int32Array(new SharedArrayBuffer(4)) };
    port1.on('message', (req: Request) => void this.serve(req));
  }

  private async serve(req: Request): Promise<void> {
    // A call already cut (its guest asked again before reaching a fuel check) is answered at once.
    if (this.done) return this.wake({ cancelled: true }, '');
    this.pending = true;
    const name = `${req.iface}#${req.fn}`;
    const funcs = this.table.get(req.iface);
    const f = funcs && Object.hasOwn(funcs, req.fn) ? funcs[req.fn] : undefined;
    let reply: HostReply;
    if (!f) {
      reply = thrown(new Error('the app supplies no such function'), name);
    } else {
      try {
        reply = resultReply(await f(...req.args), name, this.limitBytes, false);
      } catch (e) {
        reply = thrown(e, name);
      }
    }
    this.answer(reply, name);
  }

  private answer(reply: HostReply, name: string): void {
    if (this.done || !this.pending) return;
    this.pending = false;
    this.wake(reply, name);
  }

  private wake(reply: HostReply, name: string): void {
    try {
      this.mine.postMessage(reply);
    } catch (e) {
      // The value cannot be copied (a function, a class instance with private state...).
      this.mine.postMessage(thrown(new Error(`it returned a value that cannot be copied (${e instanceof Error ? e.message : String(e)})`), name));
    }
    Atomics.store(this.theirs.signal, 0, 1);
    Atomics.notify(this.theirs.signal, 0);
  }

  /** The call was cut (TIMEOUT, abort): wake a worker waiting on the app, and answer nothing more. */
  cancel(): void {
    if (this.pending) this.answer({ cancelled: true }, '');
    this.done = true;
  }

  close(): void {
    this.done = true;
    this.mine.close();
  }
}
