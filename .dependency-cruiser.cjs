/**
 * nvid's structure rules, read by `npm run structure` (the depcruise CLI) and by
 * test/unit/structure.test.ts (the API), so the check in `npm test` and the one
 * run by hand cannot drift apart.
 *
 * Paths are relative to the folder cruised from (the repository root, or the
 * test's fixture tree). Rule names are what the test counts by; keep them.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'A cycle makes load order matter and hides which module owns what; break it with a callback, an event or a smaller module.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-cross-plugin',
      comment: 'Plugins meet on the host, never in each other\'s files (webpack plugins never import each other); shared helpers go to core/.',
      severity: 'error',
      from: { path: '^plugins/([^/]+)/' },
      to: { path: '^plugins/', pathNot: '^plugins/$1/' },
    },
    {
      name: 'no-core-to-plugin',
      comment: 'The core loads plugins by name at run time; importing one would make it a hard dependency of every daemon.',
      severity: 'error',
      from: { path: '^core/' },
      to: { path: '^plugins/' },
    },
    {
      name: 'no-scripts-to-test',
      comment: 'Scripts run for users (demo, bench); test helpers may change with any test and are not built for that. What the demo shares with the tests (real nvid processes, an X server) lives in harness/, which must not reach into test/ either.',
      severity: 'error',
      from: { path: '^(scripts|harness)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    // Only our own sources; packages are leaves, and dist/ is the compiled copy of the same graph.
    includeOnly: '^(core|plugins|harness|scripts|bench|test|examples)/',
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    // Read the TypeScript before compilation, so `import type` counts: a type-only cycle
    // is still two modules that cannot be understood one without the other.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6', 'cjs'],
  },
};
