// How a call's memoryBytes is shared among everything a component's core instances
// allocate: linear memories and tables. Tables are counted against memoryBytes at
// TABLE_ELEMENT_BYTES each, and whatever they may reach is taken off what the
// memories get, so memories and tables together stay within the limit however
// many instances and tables the component makes.
import { CapsuleError } from '../../errors.js';
import type { BundleCensus } from './census.js';

export const PAGE = 65536;

/**
 * What V8 (Node 20) really spends per table element, measured growing a table in
 * 50 000-element steps to 4 M elements: externref 12.8 B of JS heap (8 B a slot,
 * plus growth slack), ~18 B of RSS; funcref with its dispatch table 25.6 B of heap,
 * 46 B of RSS after growth and 70 B of RSS at its peak (a grow copies the arrays).
 * 80 covers the worst of these with a margin.
 */
export const TABLE_ELEMENT_BYTES = 80;

/**
 * Tables together may grow into at most this fraction of memoryBytes (1/8): enough
 * for any real guest (a C or Rust table has one slot per address-taken function,
 * and fixes its size), while a hostile guest's tables cost at most an eighth of the
 * limit, taken off its linear memory.
 */
export const TABLE_GROWTH_SHARE = 8;

/**
 * Core instances one call may make. V8 spends ~0.7 KB of JS heap and ~1.4 KB of
 * RSS on even an empty instance, and a component can ask for one more with a few
 * bytes of text; real components make tens (a WASI-Virt composition under 100).
 */
export const MAX_CORE_INSTANCES = 1000;

export interface CallLimits {
  /** The maximum every linear memory is rewritten to. */
  pagesPerMemory: number;
  /**
   * How far a table with no (or a larger) maximum may grow: each defined table's
   * maximum becomes min(declared max, max(its min, this)).
   */
  tableGrowElements: number;
  /** Bytes reserved for all tables of all instances (taken off the memories' share). */
  tableBytes: number;
}

export function pagesFor(bytes: number): number {
  return Math.max(1, Math.floor(bytes / PAGE));
}

/** A table's maximum under `grow` elements of growth room. */
export function tableCap(min: number, max: number | undefined, grow: number): number {
  return Math.min(max ?? Number.POSITIVE_INFINITY, Math.max(min, grow));
}

/**
 * The limits one call of a bundle runs under. Throws MEMORY_LIMIT naming the
 * table when the tables' declared minimums alone do not fit in memoryBytes.
 */
export function callLimits(memoryBytes: number, census: BundleCensus, capabilityId?: string): CallLimits {
  const instantiations = census.instantiations ?? {};
  const instances = Object.values(instantiations).reduce((n, k) => n + k, 0);
  if (instances > MAX_CORE_INSTANCES) {
    throw new CapsuleError(
      'MEMORY_LIMIT',
      `${capabilityId ? `${capabilityId}: ` : ''}the component makes ${instances} core instances per call, over the limit of ${MAX_CORE_INSTANCES}`,
      { instances, limit: MAX_CORE_INSTANCES },
    );
  }
  const tables = Object.entries(census.tables ?? {});
  const tableCount = tables.reduce((n, [file, decls]) => n + (instantiations[file] ?? 1) * decls.length, 0);
  const tableGrowElements = Math.floor(memoryBytes / TABLE_GROWTH_SHARE / TABLE_ELEMENT_BYTES / Math.max(1, tableCount));
  let elements = 0;
  let largest: { file: string; index: number; min: number } | undefined;
  for (const [file, decls] of tables) {
    decls.forEach((t, index) => {
      elements += (instantiations[file] ?? 1) * tableCap(t.min, t.max, tableGrowElements);
      if (!largest || t.min > largest.min) largest = { file, index, min: t.min };
    });
  }
  const tableBytes = elements * TABLE_ELEMENT_BYTES;
  if (tableBytes > memoryBytes && largest) {
    throw new CapsuleError(
      'MEMORY_LIMIT',
      `${capabilityId ? `${capabilityId}: ` : ''}table ${largest.index} of core module ${largest.file} needs ${largest.min} elements at start; ` +
        `the tables of all its instances need ${tableBytes} bytes (${TABLE_ELEMENT_BYTES} per element), over the memory limit of ${memoryBytes} bytes`,
      { limitBytes: memoryBytes, tableBytes },
    );
  }
  // One memory keeps at least a page, as before; many memories share the pages, and
  // when there are more memories than pages each gets none, so a memory that needs
  // a page at start is MEMORY_LIMIT (cap.ts) instead of each taking a page of its own.
  const memories = Math.max(1, census.memories ?? 1);
  const pages = Math.floor(Math.floor((memoryBytes - tableBytes) / PAGE) / memories);
  const pagesPerMemory = memories === 1 ? Math.max(1, pages) : pages;
  return { pagesPerMemory, tableGrowElements, tableBytes };
}
