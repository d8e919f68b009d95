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
