import { defineConfig } from 'tsup';

// One ES module build, nothing bundled: dns-packet, p-retry and eventemitter3 stay the
// user's own dependencies (one copy, and their fixes reach users through npm), and Node
// >=20.19 loads the package with require() as well as import, from the same files, so a
// class has one identity whichever way it was loaded.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    'cli/main': 'src/cli/main.ts',
    // Each adapter is its own subpath: the core never loads its peer library.
    'adapters/grpc': 'src/adapters/grpc.ts',
    'adapters/undici': 'src/adapters/undici.ts',
    'adapters/otel': 'src/adapters/otel.ts',
  },
  format: ['esm'],
  dts: true,
  clean: true,
  target: 'node20',
  sourcemap: true,
});
