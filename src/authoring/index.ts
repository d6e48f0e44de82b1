// capsule's authoring side (`capsule new`, `capsule build`), bundled by scripts/build.mjs as
// dist/authoring.js, apart from the CLI: the CLI loads it only for those commands, and it
// loads the build tools (optional peer dependencies) only for the sources that need them.
export { buildCapability, buildSource, findEntry, type Built, type SourceOptions } from './build.js';
export { buildCoreC, hasClang } from './c.js';
export { scaffold } from './new.js';
export { LANGS } from './templates.js';
