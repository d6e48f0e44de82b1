// WAT: component-model text parsed by wasm-tools; no native toolchain.
import { readFile } from 'node:fs/promises';
import { CapsuleError, messageOf } from '../errors.js';
import { parse } from './wasm-tools.js';

export async function buildWat(srcPath: string): Promise<Uint8Array> {
  const text = await readFile(srcPath, 'utf8');
  try {
    return await parse(text);
  } catch (e) {
    throw new CapsuleError('BUILD_FAILED', `${srcPath}: ${messageOf(e)}`);
  }
}
