// Stands in for 'oxc-minify' in dist/transpile-host.js (scripts/build.mjs): jco-transpile imports it for options capsule
// never sets (optimize / asm.js / minify), and capsule does not install it.
const unavailable = () => {
  throw new Error('oxc-minify is not available in capsule (jco was asked for an option capsule does not use)');
};
export const minify = unavailable;
export default unavailable;
