// The worker side of an app host call (README: Host functions). The guest's import
// is synchronous and the app's function lives on the main thread and may be async,
// so the worker posts the call on its MessagePort and blocks in Atomics.wait on a
// shared slot; the main thread (tiers/host-bridge.ts) runs the function, posts the
// reply (a structured clone: values are copied, never shared) and wakes it; the
// reply is then taken synchronously with receiveMessageOnPort. A TIMEOUT or abort
// wakes it with a `cancelled` reply, so the guest is stopped and the worker lives on.
import { receiveMessageOnPort } from 'node:worker_threads';
import { CapsuleError } from '../../errors.js';
import type { HostCall, HostPort, HostReply } from '../job.js';

/** How long one wait lasts before the slot is looked at again (a lost wake-up costs this much, no more). */
const WAIT_SLICE_MS = 1000;

export function remoteHostCall({ port, signal }: HostPort): HostCall {
  return (iface, fn, args) => {
    Atomics.store(signal, 0, 0);
    try {
      port.postMessage({ iface, fn, args });
    } catch (e) {
      throw new CapsuleError('CAPABILITY_ERROR', `host function ${iface}#${fn}: its arguments cannot be copied: ${e instanceof Error ? e.message : String(e)}`);
    }
    for (;;) {
      Atomics.wait(signal, 0, 0, WAIT_SLICE_MS);
      const m = receiveMessageOnPort(port);
      if (m) return m.message as HostReply;
    }
  };
}
