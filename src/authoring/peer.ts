// Build tools are optional peer dependencies: a user who only runs components never
// installs them, and `capsule build` loads them with a dynamic import() only when a
// source needs them, naming exactly what to install when one is missing.
import { CapsuleError } from '../errors.js';

/** What `capsule build` of a JavaScript/TypeScript source needs beside capsule. */
export const JS_TOOLS = '@bytecodealliance/componentize-js@0.22.0 esbuild@0.28.2';

function missing(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** import(specifier), or BUILD_FAILED saying `npm install --save-dev <install>`. */
export async function loadPeer<T>(specifier: string, install: string, why: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (e) {
    if (!missing(e)) throw e;
    throw new CapsuleError('BUILD_FAILED', `${why} needs ${specifier}, which is not installed: run npm install --save-dev ${install}`);
  }
}
