// wasi:random/*: node:crypto, linked only when random is granted. A guest names
// how many bytes it wants (a u64): the request is charged to the call's budget
// before anything is allocated, so get-random-bytes(2^32) is MEMORY_LIMIT, not a
// 4 GiB buffer in the host.
import { randomBytes, randomFillSync } from 'node:crypto';
import type { CallBudget } from '../call-budget.js';

const u64 = () => randomBytes(8).readBigUInt64LE();

export function randomInterfaces(budget: CallBudget): Record<string, object> {
  const bytes =
    (what: string) =>
    (len: bigint): Uint8Array => {
      const n = Number(len);
      // Transient: the glue copies it into the guest's memory, where it is counted from then on.
      budget.fits(n, what);
      return randomFillSync(new Uint8Array(n));
    };
  return {
    'wasi:random/random': { getRandomBytes: bytes('wasi:random get-random-bytes'), getRandomU64: u64 },
    'wasi:random/insecure': { getInsecureRandomBytes: bytes('wasi:random get-insecure-random-bytes'), getInsecureRandomU64: u64 },
    'wasi:random/insecure-seed': { insecureSeed: (): [bigint, bigint] => [u64(), u64()] },
  };
}
