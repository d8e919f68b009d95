import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function sh(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

const exercise = `
  const dns = await createClusterDns();
  dns.addPod('kafka-headless', { name: 'kafka-0', ip: '10.0.0.1', ports: { kafka: 9092 } });
  const peers = await resolvePeers({ name: 'kafka-headless.default.svc.cluster.local', port: 'kafka', nameservers: [dns.nameserver], search: [] });
  // The watcher's backoff comes from p-retry, an ESM-only package.
  dns.setFailure('servfail');
  const watcher = watchPeers({ name: 'kafka-headless.default.svc.cluster.local.', port: 'kafka', nameservers: [dns.nameserver], minInterval: 10 });
  await new Promise((resolve) => watcher.once('error', resolve));
  dns.setFailure(null);
  const watched = await watcher.ready();
  await watcher.close();
  if (watched.length !== peers.length) throw new Error('watcher and resolvePeers disagree');
  await dns.close();
  console.log(JSON.stringify({ peers: peers.map((p) => p.id), names: [typeof DnsClient, typeof DnsError, typeof serviceName, typeof bootstrap, typeof lowestPeer, typeof createPeerPool] }));
`;
const names = '{ resolvePeers, watchPeers, DnsClient, DnsError, serviceName, bootstrap, lowestPeer, createPeerPool }';
const expected = {
  peers: ['kafka-0.kafka-headless.default.svc.cluster.local:9092'],
  names: Array(6).fill('function'),
};

// Each adapter used through its subpath, `load` being import() or require().
const ADAPTERS = `
exports.run = async (load) => {
  const grpc = await load('@grpc/grpc-js');
  const { registerHeadlessResolver } = await load('headless-peers/grpc');
  const { syncBalancedPool } = await load('headless-peers/undici');
  const { instrument } = await load('headless-peers/otel');
  const { BalancedPool } = await load('undici');
  const { MeterProvider, MetricReader } = await load('@opentelemetry/sdk-metrics');
  const { watchPeers } = await load('headless-peers');
  const { createClusterDns } = await load('headless-peers/testing');
  const http = await load('node:http');
  const dns = await createClusterDns();
  const json = { serialize: (v) => Buffer.from(JSON.stringify(v)), deserialize: (b) => JSON.parse(String(b)) };
  const definition = { who: { path: '/t.E/Who', requestStream: false, responseStream: false,
    requestSerialize: json.serialize, requestDeserialize: json.deserialize, responseSerialize: json.serialize, responseDeserialize: json.deserialize } };
  const server = new grpc.Server();
  server.addService(definition, { who: (_call, callback) => callback(null, { from: 'from echo-0' }) });
  const grpcPort = await new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  dns.addPod('echo', { name: 'echo-0', ip: '127.0.0.1', ports: { grpc: grpcPort } });
  registerHeadlessResolver({ grpc });
  const Client = grpc.makeGenericClientConstructor(definition, 'E');
  const client = new Client('headless://' + dns.nameserver + '/echo.default.svc.cluster.local.:grpc', grpc.credentials.createInsecure());
  const reply = await new Promise((resolve, reject) => client.who({}, (e, v) => (e ? reject(e) : resolve(v))));
  client.close();
  server.forceShutdown();
  const web = http.createServer((_req, res) => res.end('from web-0'));
  await new Promise((resolve) => web.listen(0, '127.0.0.1', resolve));
  dns.addPod('web', { name: 'web-0', ip: '127.0.0.1', ports: { http: web.address().port } });
  const watcher = watchPeers({ name: 'web.default.svc.cluster.local.', port: 'http', nameservers: [dns.nameserver] });
  await watcher.ready();
  const pool = new BalancedPool([]);
  const stopSync = syncBalancedPool(pool, watcher);
  const body = await (await pool.request({ path: '/', method: 'GET' })).body.text();
  stopSync();
  await pool.close();
  web.close();
  class Reader extends MetricReader { async onForceFlush() {} async onShutdown() {} }
  const reader = new Reader();
  const provider = new MeterProvider({ readers: [reader] });
  const stop = instrument(watcher, { meterProvider: provider });
  const { resourceMetrics } = await reader.collect();
  const peers = resourceMetrics.scopeMetrics[0].metrics.find((m) => m.descriptor.name === 'headless_peers.peers').dataPoints[0].value;
  stop();
  await provider.shutdown();
  await watcher.close();
  await dns.close();
  return { grpc: reply.from, http: body, peers };
};
`;

// What a user gets: a clean clone of the committed tree is packed (as `npm install <git url>`
// and `npm publish` do), and the tarball installed into a project of its own.
describe('the package, packed from a clean clone and installed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hp-package-'));
  const consumer = join(dir, 'consumer');
  const bare = join(dir, 'bare');
  let files: string[] = [];

  function node(args: string[]): string {
    return sh(process.execPath, args, consumer);
  }

  beforeAll(() => {
    const clone = join(dir, 'clone');
    sh('git', ['clone', '--quiet', '--no-hardlinks', root, clone], dir);
    // The build tools an install from git would install first.
    symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir');
    sh(npm, ['pack', '--pack-destination', dir], clone);
    const tarball = join(dir, readdirSync(dir).find((file) => file.endsWith('.tgz')) ?? 'no tarball');
    files = sh('tar', ['-tzf', tarball], dir)
      .split('\n')
      .map((path) => path.replace(/^package\//, ''));
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    const peers = [
      '@grpc/grpc-js@^1.14.0',
      'undici@^7.0.0',
      '@opentelemetry/api@^1.9.0',
      '@opentelemetry/sdk-metrics@^2.0.0',
    ];
    const install = ['install', '--prefer-offline', '--no-audit', '--no-fund'];
    sh(npm, [...install, tarball, '@types/node@^20', ...peers], consumer);
    // A project without any adapter's library: the core must not need one.
    mkdirSync(bare);
    writeFileSync(join(bare, 'package.json'), JSON.stringify({ name: 'bare', private: true, type: 'module' }));
    sh(npm, [...install, tarball], bare);
    writeFileSync(join(consumer, 'adapters.cjs'), ADAPTERS);
  }, 180_000);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds the built files: the pack builds dist first', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/index.js',
        'dist/index.d.ts',
        'dist/testing/index.js',
        'dist/testing/index.d.ts',
        'dist/cli/main.js',
      ]),
    );
  });

  it('works through import', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `import ${names} from 'headless-peers'; import { createClusterDns } from 'headless-peers/testing'; ${exercise}`,
    ]);
    expect(JSON.parse(out)).toEqual(expected);
  });

  it('works through require()', () => {
    const out = node([
      '--input-type=commonjs',
      '-e',
      `const ${names} = require('headless-peers'); const { createClusterDns } = require('headless-peers/testing');
       (async () => { ${exercise} })().catch((err) => { console.error(err); process.exit(1); });`,
    ]);
    expect(JSON.parse(out)).toEqual(expected);
  });

  it('gives require() and import the same classes: a pool made through one takes a watcher made through the other', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `import { createRequire } from 'node:module';
       import { watchPeers, DnsError } from 'headless-peers';
       const required = createRequire(import.meta.url)('headless-peers');
       const watcher = watchPeers({ name: 'x.default.svc.cluster.local.', nameservers: ['127.0.0.1:9'] });
       const pool = required.createPeerPool({ watcher, connect: async () => ({}), destroy: () => {} });
       await pool.close();
       await watcher.close();
       console.log(JSON.stringify({ sameClass: required.DnsError === DnsError }));`,
    ]);
    expect(JSON.parse(out)).toEqual({ sameClass: true });
  });

  it('bundles none of its dependencies: they are imported, one copy each, from the user’s node_modules', () => {
    const dist = join(consumer, 'node_modules/headless-peers/dist');
    const code = readdirSync(dist, { recursive: true })
      .map(String)
      .filter((file) => file.endsWith('.js'))
      .map((file) => readFileSync(join(dist, file), 'utf8'))
      .join('\n');
    for (const dependency of ['dns-packet', 'p-retry', 'eventemitter3']) {
      expect(code).toMatch(new RegExp(`from ["']${dependency}["']`));
    }
    // Code of theirs that would be here if they were bundled.
    expect(code).not.toContain('@leichtgewicht/ip-codec');
    expect(code).not.toContain('is-network-error');
    const installed = readdirSync(join(consumer, 'node_modules'));
    expect(installed).toEqual(expect.arrayContaining(['dns-packet', 'p-retry', 'eventemitter3']));
  });

  it('type-checks a TypeScript project with skipLibCheck: false and no @types/dns-packet', () => {
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    writeFileSync(
      join(consumer, 'consumer.ts'),
      `import { DnsClient, type DnsRecord, bootstrap, watchPeers } from 'headless-peers';
import { createClusterDns } from 'headless-peers/testing';

const dns = await createClusterDns();
const client = new DnsClient({ nameservers: [dns.nameserver] });
const result = await client.query('x.default.svc.cluster.local', 'SRV');
const first: DnsRecord | undefined = result.answers[0];
if (first?.type === 'SRV') {
  const port: number = first.data.port;
  console.log(port);
}
// @ts-expect-error a record's name is a string: were the records \`any\`, this would compile
const wrong: number | undefined = result.answers[0]?.name;
console.log(wrong, typeof bootstrap, typeof watchPeers);
`,
    );
    expect(readdirSync(join(consumer, 'node_modules/@types'))).toEqual(['node']);
    sh(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', consumer], consumer);
  });

  it('loads none of the adapters’ libraries: the core works in a project that has none of them', () => {
    expect(readdirSync(join(bare, 'node_modules'))).not.toEqual(expect.arrayContaining(['undici']));
    const out = sh(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const core = await import('headless-peers');
         const required = (await import('node:module')).createRequire(import.meta.url)('headless-peers');
         const grpc = await import('headless-peers/grpc').then(() => 'loaded', (err) => err.code + ' ' + err.message.split("'")[1]);
         console.log(JSON.stringify({ core: typeof core.watchPeers, required: typeof required.watchPeers, grpc }));`,
      ],
      bare,
    );
    expect(JSON.parse(out)).toEqual({
      core: 'function',
      required: 'function',
      grpc: 'ERR_MODULE_NOT_FOUND @grpc/grpc-js',
    });
  });

  for (const [form, entry] of [
    // An ES module's namespace, or a CommonJS module's exports (its default export).
    [
      'import',
      `import('./adapters.cjs').then((m) => m.default.run((name) => import(name).then((mod) => mod.default ?? mod)))`,
    ],
    ['require()', `require('./adapters.cjs').run(async (name) => require(name))`],
  ] as const) {
    it(`serves each adapter's subpath through ${form}: a gRPC call, an HTTP request and a metric, each through the library it adapts`, () => {
      const out = node([
        `--input-type=${form === 'import' ? 'module' : 'commonjs'}`,
        '-e',
        `${entry}.then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); });`,
      ]);
      expect(JSON.parse(out)).toEqual({ grpc: 'from echo-0', http: 'from web-0', peers: 1 });
    });
  }

  it('ships a CLI that answers --help', () => {
    expect(node([join(consumer, 'node_modules/headless-peers/dist/cli/main.js'), '--help'])).toMatch(
      /Usage: headless-peers/,
    );
  });
});
