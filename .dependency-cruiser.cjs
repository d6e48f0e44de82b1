// Layer direction: what each folder of src/ may import. `npm run layers` checks it.
// A folder's role and its allowed imports are stated once here; README's Layout names them.
/** The module below every layer: errors (imports nothing of capsule). */
const BASE = '^src/errors\\.ts$';
/** Facts read off this host (real paths, cwd, env, clock) and the refusal of /proc, /sys, /dev paths: they apply the pure rules of src/grants/ to the disk. */
const HOST = '^src/(host-paths|kernel-paths)\\.ts$';

/** What scripts/build.mjs bundles: everything in src/ must be reachable from one of these. */
const ENTRIES = '^src/(index|bench/index|cli/main|tiers/worker-entry|tiers/job-entry|sandbox/transpile-entry|authoring/index)\\.ts$';
/** Modules imported only with `import type` (the cruise sees runtime imports only). */
const TYPE_ONLY = ['^src/schema-types\\.ts$', '^src/audit/event\\.ts$', '^src/bench/types\\.ts$', '^src/policy/request\\.ts$', '^src/tiers/tier-runner\\.ts$', '^src/sandbox/job\\.ts$'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'Imports point one way: a cycle means two modules are one.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'base-imports-nothing',
      comment: 'src/errors.ts, which every layer uses, imports nothing of capsule.',
      severity: 'error',
      from: { path: BASE },
      to: { path: '^src/' },
    },
    {
      name: 'host-facts-over-grants',
      comment: 'The host-facts modules apply the permission model to the disk: they import only it, each other and errors.',
      severity: 'error',
      from: { path: HOST },
      to: { path: '^src/', pathNot: [BASE, HOST, '^src/grants/'] },
    },
    {
      name: 'audit-imports-only-base',
      comment: 'src/audit/ (the hash-chained log) knows nothing of capsule but errors and the kernel-path refusal (with what it needs).',
      severity: 'error',
      from: { path: '^src/audit/' },
      to: { path: '^src/', pathNot: ['^src/audit/', BASE, HOST, '^src/grants/'] },
    },
    {
      name: 'grants-imports-only-itself-and-errors',
      comment: 'src/grants/ (the permission model) is pure: it imports only itself and src/errors.ts.',
      severity: 'error',
      from: { path: '^src/grants/' },
      to: { path: '^src/', pathNot: ['^src/grants/', '^src/errors\\.ts$'] },
    },
    {
      name: 'grants-pure',
      comment: 'src/grants/ reads no disk, clock or environment: of Node it may use path only (facts come in as arguments).',
      severity: 'error',
      from: { path: '^src/grants/' },
      to: { dependencyTypes: ['core'], pathNot: '^(node:)?path$' },
    },
    {
      name: 'plan-pure',
      comment:
        'src/plan/ (one plan per call) is pure: it uses the permission model, the pure policy rules and the component shape; ' +
        'the host comes in as data (src/host-paths.ts currentHost), so it imports no Node module.',
      severity: 'error',
      from: { path: '^src/plan/' },
      to: {
        pathNot: ['^src/plan/', '^src/grants/', '^src/policy/(decide|expired-needs|expiry|id-glob|tier)\\.ts$', '^src/sandbox/describe\\.ts$', BASE],
      },
    },
    {
      name: 'registry-not-execution',
      comment: 'src/registry/ (manifests, discovery, provenance) does not reach into execution or the CLI.',
      severity: 'error',
      from: { path: '^src/registry/' },
      to: { path: '^src/(sandbox|tiers|cli)/' },
    },
    {
      name: 'sandbox-not-upward',
      comment: 'src/sandbox/ (the engine) is driven by tiers and the runtime; it does not import them.',
      severity: 'error',
      from: { path: '^src/sandbox/' },
      to: { path: ['^src/(tiers|cli)/', '^src/runtime\\.ts$', '^src/api\\.ts$'] },
    },
    {
      name: 'authoring-imports-only-errors',
      comment: 'src/authoring/ (capsule new/build, bundled apart as dist/authoring.js) builds components; it runs none, so it imports only itself and errors.',
      severity: 'error',
      from: { path: '^src/authoring/' },
      to: { path: '^src/', pathNot: ['^src/authoring/', BASE] },
    },
    {
      name: 'tiers-not-cli',
      comment: 'src/tiers/ runs jobs; the CLI drives it, never the other way.',
      severity: 'error',
      from: { path: '^src/tiers/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'library-not-bench-or-cli',
      comment: 'The library does not import the bench (its own entry) or the CLI (a consumer of the library).',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/(bench|cli)/'] },
      to: { path: '^src/(bench|cli)/' },
    },
    {
      name: 'no-unreachable',
      comment:
        'A module no entry reaches is dead code. Modules that hold only types are reached ' +
        'through `import type`, which the cruise does not see (below): they are listed.',
      severity: 'error',
      from: { path: ENTRIES },
      to: { path: '^src/', pathNot: [ENTRIES, ...TYPE_ONLY], reachable: false },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    // TypeScript 7 (the Go compiler) has no JavaScript API for dependency-cruiser to parse
    // with, so Babel's TypeScript preset reads the sources. It drops `import type` before
    // the cruise: these rules govern runtime imports; type-only imports are not checked.
    babelConfig: { fileName: '.dependency-cruiser.babel.json' },
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
