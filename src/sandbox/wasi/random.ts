// wasi:random/*: node:crypto, linked only when random is granted.
import { randomBytes } from 'node:crypto';

const u64 = () => randomBytes(8).readBigUInt64LE();
const bytes = (len: bigint) => new Uint8Array(randomBytes(Number(len)));

export function randomInterfaces(): Record<string, object> {
  return {
    'wasi:random/random': { getRandomBytes: bytes, getRandomU64: u64 },
    'wasi:random/insecure': { getInsecureRandomBytes: bytes, getInsecureRandomU64: u64 },
    'wasi:random/insecure-seed': { insecureSeed: (): [bigint, bigint] => [u64(), u64()] },
  };
}
