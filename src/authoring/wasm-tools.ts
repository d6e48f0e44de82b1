// wasm-tools (parse, embed, new), from @bytecodealliance/jco-transpile. scripts/build.mjs
// bundles it into dist/authoring.js with its core wasm in dist/jco/ (as for the transpile
// host), so building WAT and C capabilities needs no npm package beside capsule.
export { componentEmbed, componentNew, parse } from '@bytecodealliance/jco-transpile/wasm-tools';
