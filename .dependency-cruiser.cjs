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
      name: 'shared-layers',
      severity: 'error',
      comment: 'Inside shared: protocol < image < formats, engine < packaging, node (errors.ts beside protocol).',
      from: { path: '^shared/src/(protocol|errors)' },
      to: { path: '^shared/src/(image|formats|engine|packaging|node)/' },
    },
    {
      name: 'shared-image-below-formats-and-engine',
      severity: 'error',
      from: { path: '^shared/src/image/' },
      to: { path: '^shared/src/(formats|engine|packaging|node)/' },
    },
    {
      name: 'shared-formats-and-engine-apart',
      severity: 'error',
      from: { path: '^shared/src/(formats|engine)/' },
      to: { path: '^shared/src/(formats|engine|packaging|node)/', pathNot: '^shared/src/$1/' },
    },
    {
      name: 'shared-packaging-below-node',
      severity: 'error',
      comment: 'packaging (bioimage.io, ONNX) is isomorphic: it builds on formats and engine, not on node.',
      from: { path: '^shared/src/packaging/' },
      to: { path: '^shared/src/node/' },
    },
    {
      name: 'bridge-and-viewer-apart',
      severity: 'error',
      comment: 'bridge-server and viewer-plugin share code only through shared/.',
      from: { path: '^(bridge-server|viewer-plugin)/src' },
      to: { path: '^(viewer-plugin|bridge-server)/src', pathNot: '^$1/src' },
    },
    {
      name: 'vitessce-plugin-on-shared-only',
      severity: 'error',
      comment: 'The Vitessce plugin frames the viewer page (its deck.gl 9.2): it shares the protocol, not the element.',
      from: { path: '^viewer-plugin/vitessce/src' },
      to: { path: '^(bridge-server|viewer-plugin/src)/' },
    },
    {
      name: 'viewer-without-vitessce',
      severity: 'error',
      comment: "Vitessce 4 brings deck.gl 8: the element's code never imports it or the plugin.",
      from: { path: '^viewer-plugin/(src|demo|examples)' },
      to: { path: '(^viewer-plugin/vitessce/|node_modules/(vitessce|@vitessce)/)' },
    },
    {
      name: 'transports-only-through-services',
      severity: 'error',
      comment:
        'REST, WebSocket, Fiji and MONAI routes translate wire formats to service calls; use cases live in services/.',
      from: { path: '^bridge-server/src/(http|rest|ws|fiji|monai)/' },
      to: { path: '^bridge-server/src/(store|jobs|hub|imaging|bioimageio)/' },
    },
    {
      name: 'services-know-no-transport',
      severity: 'error',
      from: { path: '^bridge-server/src/services/' },
      to: { path: '^bridge-server/src/(http|rest|ws|fiji|monai|commands|cli)/' },
    },
    {
      name: 'store-is-the-bottom-layer',
      severity: 'error',
      from: { path: '^bridge-server/src/store/' },
      to: {
        path: '^bridge-server/src/(services|jobs|hub|imaging|bioimageio|http|rest|ws|fiji|monai|commands|cli)/',
      },
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
