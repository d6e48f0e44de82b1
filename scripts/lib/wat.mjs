// Builds a component from component-model WAT text with wasm-tools' parser
// (shipped inside @bytecodealliance/jco-transpile), so WAT guests need no native toolchain.
import { readFile } from 'node:fs/promises';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';

export async function buildWat(srcPath) {
  const text = await readFile(srcPath, 'utf8');
  try {
    return await parse(text);
  } catch (e) {
    throw new Error(`${srcPath}: ${e?.message ?? e}`);
  }
}
