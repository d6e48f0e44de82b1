// Core-module limits: what a guest's core instances may allocate in the engine,
// decided per call from memoryBytes and enforced by rewriting each module before
// it is compiled.
export { capModule, capMemories, HIDDEN_EXPORT } from './cap.js';
export { bundleCensus, censusOf, type BundleCensus, type ModuleCensus, type TableDecl } from './census.js';
export { callLimits, MAX_CORE_INSTANCES, PAGE, pagesFor, TABLE_ELEMENT_BYTES, TABLE_GROWTH_SHARE, tableCap, type CallLimits } from './plan.js';
export { rewriteSections, sections } from './sections.js';
export { FUEL_EXPORT, FUEL_IMPORT, instrumentModule } from './fuel.js';
