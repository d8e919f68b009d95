import { defineConfig } from 'tsup';

const entry = {
  index: 'src/index.ts',
  'testing/index': 'src/testing/index.ts',
  'cli/main': 'src/cli/main.ts',
};

export default defineConfig([
  {
    entry,
    format: ['esm'],
    dts: true,
    clean: true,
    target: 'node20',
    sourcemap: true,
    // dns-packet is CommonJS: imported from an ES module, Node first scans it for its exports
    // (~70 ms of start-up on the development machine). Bundled, it is plain code; its own
    // require() of Node built-ins then needs a real `require`, which the banner provides.
    noExternal: ['dns-packet', '@leichtgewicht/ip-codec'],
    banner: {
      js: "import { createRequire as __hpCreateRequire } from 'node:module';\nconst require = __hpCreateRequire(import.meta.url);",
    },
  },
  {
    entry: { index: entry.index, 'testing/index': entry['testing/index'] },
    format: ['cjs'],
    dts: true,
    target: 'node20',
    sourcemap: true,
    // p-retry is ESM-only: bundling it keeps `require('headless-peers')` working on any
    // interop esbuild emits.
    noExternal: ['p-retry'],
  },
]);
