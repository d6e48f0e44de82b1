// Admission control (seed: resource reservation). Each call reserves what it can
// really make this process hold (reservationFor) from a runtime-wide budget before
// it is dispatched; a call that does not fit waits in a bounded FIFO queue, and
// past that it is ADMISSION_REJECTED. The reservation is released on every
// outcome, including timeouts and crashes.
import { CapsuleError } from './errors.js';
import type { Limits } from './sandbox/job.js';

/**
 * The most one call can make the host hold, from its limits:
 * - its linear memory, up to memoryBytes;
 * - host-side buffers (call-budget.ts), each charged only while linear memory +
 *   held bytes fit memoryBytes; as linear memory may grow after bytes are held,
 *   the two together stay under 2 × memoryBytes;
 * - what it sends back: the output value or err message, stdout and stderr, each
 *   up to outputBytes.
 * Transient copies (a string the glue decodes from linear memory, a read buffer of
 * at most 1 MiB) and the worker itself are the constant on top.
 */
export function reservationFor(limits: Pick<Limits, 'memoryBytes' | 'outputBytes'>): number {
  return 2 * limits.memoryBytes + 3 * limits.outputBytes;
}

export interface AdmissionOptions {
  /** Sum of the reservations (reservationFor) of the calls in flight (default: half the machine's memory, at most 16 GiB). */
  memoryBytes?: number;
  /** Calls allowed to wait for room (default 1024). */
  queueLength?: number;
}

interface Waiter {
  bytes: number;
  admit: (release: () => void) => void;
}

export class Admission {
  private used = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    readonly budget: number,
    readonly queueLength: number,
  ) {}

  get inFlightBytes(): number {
    return this.used;
  }

  get waiting(): number {
    return this.queue.length;
  }

  acquire(bytes: number, who: string, signal?: AbortSignal): Promise<() => void> {
    if (bytes > this.budget) {
      return Promise.reject(new CapsuleError('ADMISSION_REJECTED', `${who}: reserves ${bytes} bytes, more than the runtime's whole budget of ${this.budget}`));
    }
    if (this.queue.length === 0 && this.used + bytes <= this.budget) return Promise.resolve(this.take(bytes));
    if (this.queue.length >= this.queueLength) {
      return Promise.reject(
        new CapsuleError('ADMISSION_REJECTED', `${who}: ${this.queue.length} calls already wait for memory (queue length ${this.queueLength})`),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { bytes, admit: resolve };
      this.queue.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const at = this.queue.indexOf(waiter);
          if (at === -1) return;
          this.queue.splice(at, 1);
          reject(new CapsuleError('ABORTED', `${who}: the caller aborted the call while it waited for admission`));
          this.drain();
        },
        { once: true },
      );
    });
  }

  private take(bytes: number): () => void {
    this.used += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
      this.drain();
    };
  }

  private drain(): void {
    for (let next = this.queue[0]; next !== undefined && this.used + next.bytes <= this.budget; next = this.queue[0]) {
      this.queue.shift();
      next.admit(this.take(next.bytes));
    }
  }
}
