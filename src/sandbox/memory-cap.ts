// Kept for existing importers: the core-module limits now live in ./limits/
// (sections.ts walks and rewrites sections, census.ts counts memories and tables,
// plan.ts splits a call's memoryBytes among them, cap.ts rewrites a module).
import { censusOf } from './limits/census.js';
import { pagesFor } from './limits/plan.js';

export { capMemories } from './limits/cap.js';
export { pagesFor } from './limits/plan.js';

/** How many memories a core module defines itself (its memory section), imported ones not counted. */
export function definedMemories(module: Uint8Array): number {
  return censusOf(module).memories;
}

/**
 * The pages each memory may have so that all of them together stay within
 * `limitBytes` when the component has no tables (see limits/plan.ts for the full split).
 */
export function pagesPerMemory(limitBytes: number, memories: number): number {
  return Math.max(1, Math.floor(pagesFor(limitBytes) / Math.max(1, memories)));
}
