// Reads a component file from disk with a size cap, and only if it is a regular
// file: `/dev/zero` would otherwise be read forever, and opening a FIFO blocks
// until a writer comes (no timeout applies before the guest runs, and a pending
// open on the libuv thread pool then keeps `process.exit()` from finishing).
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { CapsuleError } from '../errors.js';

/** The largest component capsule reads (README: Limits). jco's own largest test components are a few MiB. */
export const MAX_COMPONENT_BYTES = 256 * 1024 * 1024;

const CHUNK = 1 << 20;

function notRegular(origin: string): CapsuleError {
  return new CapsuleError('COMPONENT_INVALID', `${origin} is not a regular file (a device, FIFO, socket or directory cannot be a component)`);
}

function tooLarge(origin: string, max: number): CapsuleError {
  return new CapsuleError('COMPONENT_INVALID', `${origin} is larger than the ${max / (1024 * 1024)} MiB a component may be`, { maxBytes: max });
}

/**
 * The bytes of the component file `file`. Throws COMPONENT_INVALID for a file that
 * is not regular or is larger than `maxBytes`; other failures (ENOENT, EACCES) are
 * thrown as Node raised them, for the caller to name.
 */
export async function readComponentFile(file: string, origin = file, maxBytes = MAX_COMPONENT_BYTES): Promise<Uint8Array> {
  // stat before open: opening a FIFO for reading without O_NONBLOCK blocks.
  const before = await stat(file);
  if (!before.isFile()) throw notRegular(origin);
  if (before.size > maxBytes) throw tooLarge(origin, maxBytes);
  // O_NONBLOCK: the path may have been swapped for a FIFO since stat; fstat then refuses it.
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw notRegular(origin);
    if (st.size > maxBytes) throw tooLarge(origin, maxBytes);
    // Read to EOF, not to st.size: the file may grow meanwhile, and the cap holds either way.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw tooLarge(origin, maxBytes);
      chunks.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
}

/** A component's digest as manifests and provenance write it (`sha256:<hex>`). */
export function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
