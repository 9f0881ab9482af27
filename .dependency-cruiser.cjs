/** Import rules checked by `npm run lint` (dependency-cruiser): no cycles, and dependencies one way only. */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle ties modules that should be separate; move the shared piece down a layer.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'shared-depends-on-nothing-of-ours',
      severity: 'error',
      from: { path: '^shared/src' },
      to: { path: '^(bridge-server|viewer-plugin)/' },
    },
    {
      name: 'bridge-and-viewer-apart',
      severity: 'error',
      comment: 'bridge-server and viewer-plugin share code only through shared/.',
      from: { path: '^(bridge-server|viewer-plugin)/src' },
      to: { path: '^(viewer-plugin|bridge-server)/src', pathNot: '^$1/src' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|bundle|node_modules)/' },
    tsConfig: { fileName: 'tsconfig.base.json' },
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'types', 'default'] },
  },
};
