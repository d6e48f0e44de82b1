// What a core module defines that the engine allocates outside linear memory's
// accounting: its memories and its tables. Counted once per core file at
// transpile time (kept in the cache's meta), then multiplied by how often the
// glue instantiates each file, so a call's limits hold for the whole component.
import { invalid, readLimits, readRefType, Reader, SECTION, sectionBody } from './sections.js';

export interface TableDecl {
  /** Elements at instantiation. */
  min: number;
  /** Declared maximum, when the module gives one. */
  max?: number;
}

export interface ModuleCensus {
  memories: number;
  tables: TableDecl[];
}

/** The bundle-level counts a call's limits are split among (see plan.ts). */
export interface BundleCensus {
  /** How often the glue instantiates each core file. */
  instantiations?: Record<string, number>;
  /** Linear memories all those instances define. */
  memories?: number;
  /** Tables each core file defines itself (imported tables belong to their definer). */
  tables?: Record<string, TableDecl[]>;
}

export function censusOf(module: Uint8Array): ModuleCensus {
  const memory = sectionBody(module, SECTION.memory);
  const table = sectionBody(module, SECTION.table);
  return { memories: memory ? new Reader(memory).u32() : 0, tables: table ? definedTables(table) : [] };
}

function definedTables(body: Uint8Array): TableDecl[] {
  const r = new Reader(body);
  const count = r.u32();
  const out: TableDecl[] = [];
  for (let i = 0; i < count; i++) {
    // 0x40 0x00 prefixes a table with an initialiser expression (function references proposal).
    if (body[r.pos] === 0x40) throw invalid('tables with initialiser expressions are not supported');
    readRefType(r);
    const l = readLimits(r);
    out.push(l.max === undefined ? { min: Number(l.min) } : { min: Number(l.min), max: Number(l.max) });
  }
  return out;
}

/** Counts for a bundle's core files, given how often the glue instantiates each. */
export function bundleCensus(files: Record<string, Uint8Array>, instantiations: Record<string, number>): Required<BundleCensus> {
  let memories = 0;
  const tables: Record<string, TableDecl[]> = {};
  for (const [file, bytes] of Object.entries(files)) {
    const c = censusOf(bytes);
    memories += (instantiations[file] ?? 1) * c.memories;
    if (c.tables.length) tables[file] = c.tables;
  }
  return { instantiations, memories, tables };
}
