// npm run bench: DnsClient against node:dns (c-ares) and dns-socket, on one BIND 9 started
// here on loopback, in one run, interleaved and repeated; plus whole-service lookups, the
// watcher's steady-state cost, diff cost, memory and import time. Prints a table and
// writes JSON to bench/results/. Every loop is bounded in count.
import { execFileSync } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Packet } from 'dns-packet';
import dnsSocket from 'dns-socket';
import { diffPeers } from '../src/watch/diff.js';
import { byId } from '../src/watch/peer.js';
import { findNamed, startBind } from '../test/support/bind.js';
import { fixturePeer } from '../test/support/peers.js';
import { clusterZones, serviceRecords } from '../test/support/zones.js';
import { rawQueries } from './raw.js';
import { load, median, quantile, table } from './stats.js';

// The package as users run it: the build in dist/ (`npm run bench` builds it first). Were
// tsx, which runs this file, to compile the library too, every closure the library makes
// would also call esbuild's name-keeping helper (tsx sets keepNames), which the published
// build does not do. Internal helpers for the floors and the diff come from the sources.
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist/index.js')))
  execFileSync(process.execPath, [join(root, 'node_modules/tsup/dist/cli-default.js')], { cwd: root, stdio: 'ignore' });
const built = '../dist/index.js';
const { DnsClient, createPeerPool, resolvePeers, watchPeers } = (await import(
  built
)) as typeof import('../src/index.js');

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const SERVICES = 1000;
const KAFKA = 'kafka-headless.default.svc.cluster.local';
const named = findNamed();
if (named === undefined) throw new Error('bench needs BIND 9 (named): apt-get install -y bind9 bind9-dnsutils');

const zones = clusterZones();
const cluster = zones[0];
if (cluster === undefined) throw new Error('no zone');
for (let s = 0; s < SERVICES; s++) {
  cluster.records.push(
    ...serviceRecords(
      `svc-${s}`,
      [0, 1, 2].map((i) => ({ host: `svc-${s}-${i}`, ips: [`10.${120 + (s >> 8)}.${s & 255}.${i + 1}`] })),
      { p: 80 },
    ),
  );
}
console.log(`starting BIND 9 with ${cluster.records.length.toLocaleString('en')} records...`);
const bind = await startBind(named, zones);
const [host, portText] = bind.nameserver.split(':');
const port = Number(portText);
const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, rounds: ROUNDS };

// ---- The three clients, behind one shape: ask a question, resolve when answered. ----
type Ask = (name: string, type: 'A' | 'SRV') => Promise<unknown>;
const ours = new DnsClient({ nameservers: [bind.nameserver], search: [], ndots: 1, timeout: 2000, attempts: 2 });
const cares = new Resolver({ timeout: 2000, tries: 2 });
cares.setServers([bind.nameserver]);
const socket = dnsSocket({ timeout: 2000, retries: 1 });
const socketQuery = (name: string, type: 'A' | 'SRV') =>
  new Promise<Packet>((resolve, reject) =>
    socket.query({ questions: [{ type, name }] }, port, host ?? '127.0.0.1', (err, res) =>
      err ? reject(err) : resolve(res),
    ),
  );
// The floor under every client: pre-encoded queries, nothing decoded (bench/raw.ts).
const raw = await rawQueries(host ?? '127.0.0.1', port);
const rawQuery = raw.query;
const clients: Record<string, Ask> = {
  DnsClient: (name, type) => (type === 'A' ? ours.resolveA(name) : ours.resolveSrv(name)),
  'node:dns': (name, type) => (type === 'A' ? cares.resolve4(name) : cares.resolveSrv(name)),
  'dns-socket': socketQuery,
  'raw dgram (no decoding: the ceiling)': rawQuery,
};

// ---- 1. Queries per second, interleaved rounds. ----
const cases = [
  { label: 'A c=1', type: 'A' as const, name: KAFKA, concurrency: 1, total: 1500 },
  { label: 'A c=64', type: 'A' as const, name: KAFKA, concurrency: 64, total: 15_000 },
  { label: 'SRV c=1', type: 'SRV' as const, name: `_kafka._tcp.${KAFKA}`, concurrency: 1, total: 1500 },
  { label: 'SRV c=64', type: 'SRV' as const, name: `_kafka._tcp.${KAFKA}`, concurrency: 64, total: 15_000 },
];
const throughput: Record<string, Record<string, { qps: number[]; latencies: number[]; errors: number }>> = {};
for (const client of Object.keys(clients))
  await load(500, 16, () => clients[client]?.(KAFKA, 'A') ?? Promise.resolve()); // warm up
// Each round starts with another client: whoever runs in a given slot of the sequence runs
// faster or slower for it (measured: 10-27% between two copies of the same client in one
// process), so every client takes every slot once in four rounds.
const order = Object.entries(clients);
for (let round = 0; round < ROUNDS; round++) {
  const rotated = [...order.slice(round % order.length), ...order.slice(0, round % order.length)];
  for (const c of cases) {
    for (const [client, ask] of rotated) {
      const run = await load(c.total, c.concurrency, () => ask(c.name, c.type));
      const byClient = throughput[c.label] ?? {};
      throughput[c.label] = byClient;
      const entry = byClient[client] ?? { qps: [], latencies: [], errors: 0 };
      byClient[client] = entry;
      entry.qps.push((c.total / run.ms) * 1000);
      entry.latencies.push(...run.latencies);
      entry.errors += run.errors;
    }
  }
  console.log(`round ${round + 1}/${ROUNDS} done`);
}
const qps = (label: string, client: string) => median(throughput[label]?.[client]?.qps ?? []);
const p = (label: string, client: string, q: number) => quantile(throughput[label]?.[client]?.latencies ?? [], q);
const summary: Record<string, Record<string, { qps: number; p50ms: number; p99ms: number }>> = Object.fromEntries(
  cases.map((c) => [
    c.label,
    Object.fromEntries(
      Object.keys(clients).map((client) => [
        client,
        {
          qps: Math.round(qps(c.label, client)),
          qpsByRound: (throughput[c.label]?.[client]?.qps ?? []).map(Math.round),
          p50ms: p(c.label, client, 0.5),
          p99ms: p(c.label, client, 0.99),
          errors: throughput[c.label]?.[client]?.errors,
        },
      ]),
    ),
  ]),
);
results.throughput = summary;
// The raw latencies (about a million numbers) are summarised: dropped now, so that the sections
// below do not pay for collecting the bench's own data.
for (const byClient of Object.values(throughput)) for (const entry of Object.values(byClient)) entry.latencies = [];

// ---- 2. Whole services: 800 SRV targets with every address; 4,000 addresses. ----
const BIG = '_gossip._tcp.big.default.svc.cluster.local';
const WIDE = 'wide.default.svc.cluster.local';
async function caresBigService(): Promise<number> {
  const targets = await cares.resolveSrv(BIG);
  let addresses = 0;
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const target = targets[next++]?.name ?? '';
      const [v4, v6] = await Promise.all([
        cares.resolve4(target).catch(() => []),
        cares.resolve6(target).catch(() => []),
      ]);
      addresses += v4.length + v6.length;
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return addresses;
}
const whole: Record<string, { ms: number[]; found: string }> = {};
const record = (key: string, ms: number, found: string) => {
  const entry = whole[key] ?? { ms: [], found };
  whole[key] = entry;
  entry.ms.push(ms);
  entry.found = found;
};
const oursBig = async () => {
  const t = performance.now();
  const big = await resolvePeers({ name: 'big.default.svc.cluster.local.', port: 'gossip', client: ours });
  record(
    '800 targets: DnsClient (resolvePeers, A+AAAA)',
    performance.now() - t,
    `${big.length} of 800, ${big.filter((x) => x.address).length} with addresses`,
  );
};
const caresBig = async () => {
  const t = performance.now();
  const caresAddresses = await caresBigService();
  record(
    '800 targets: node:dns (resolveSrv + A+AAAA, 64 in flight)',
    performance.now() - t,
    `800 of 800, ${caresAddresses} with addresses`,
  );
};
// Single lookups of ~10-100 ms move a lot from run to run: three times the rounds, and the
// two complete 800-target jobs take turns going first.
for (let round = 0; round < 3 * ROUNDS; round++) {
  for (const job of round % 2 ? [caresBig, oursBig] : [oursBig, caresBig]) await job();
  let t = performance.now();
  const caresNames = await cares.resolveSrv(BIG);
  record('800 targets: node:dns resolveSrv only', performance.now() - t, `${caresNames.length} names, no addresses`);
  t = performance.now();
  const socketBig = await socketQuery(BIG, 'SRV');
  record(
    '800 targets: dns-socket',
    performance.now() - t,
    `${socketBig.answers?.length ?? 0} of 800${(socketBig as { flag_tc?: boolean }).flag_tc ? ', truncated (TC=1) and returned' : ''}`,
  );
  t = performance.now();
  const wide = await resolvePeers({ name: `${WIDE}.`, family: 4, client: ours });
  record('4,000 addresses: DnsClient (resolvePeers)', performance.now() - t, `${wide.length} of 4,000`);
  t = performance.now();
  const caresWide = await cares.resolve4(WIDE);
  record('4,000 addresses: node:dns resolve4', performance.now() - t, `${caresWide.length} of 4,000`);
  t = performance.now();
  const socketWide = await socketQuery(WIDE, 'A');
  record(
    '4,000 addresses: dns-socket',
    performance.now() - t,
    `${socketWide.answers?.length ?? 0} of 4,000${(socketWide as { flag_tc?: boolean }).flag_tc ? ', truncated (TC=1) and returned' : ''}`,
  );
}
results.wholeServices = Object.fromEntries(
  Object.entries(whole).map(([key, v]) => [key, { ms: Number(median(v.ms).toFixed(1)), found: v.found }]),
);

// ---- 3. An unchanged 800-target service: queries per poll. ----
const steady = watchPeers({
  name: 'big.default.svc.cluster.local.',
  port: 'gossip',
  client: ours,
  respectTtl: false,
  interval: 60_000,
});
await steady.ready();
const before = steady.stats.queries;
await steady.refresh();
results.unchangedPollQueries = steady.stats.queries - before;
await steady.close();

// ---- 3b. The pool with 4,000 healthy peers: acquire + release, per strategy. ----
// The 4,000 addresses of one service as members, each with a connection that is an object:
// what is measured is the pool's own work on every request.
const wideWatcher = watchPeers({
  name: `${WIDE}.`,
  port: 80,
  family: 4,
  client: ours,
  respectTtl: false,
  interval: 60_000,
});
await wideWatcher.ready();
const poolCosts: Record<string, { usMedian: number; healthy: number }> = {};
for (const strategy of ['round-robin', 'least-pending', 'weighted'] as const) {
  const pool = createPeerPool<object>({ watcher: wideWatcher, connect: async () => ({}), destroy: () => {}, strategy });
  while (pool.stats.healthy < 4000) await new Promise((resolve) => setTimeout(resolve, 10));
  const rounds: number[] = [];
  for (let round = 0; round < 20; round++) {
    const n = 20_000;
    const t = performance.now();
    for (let i = 0; i < n; i++) pool.release(await pool.acquire());
    rounds.push(((performance.now() - t) * 1000) / n);
  }
  poolCosts[strategy] = { usMedian: Number(median(rounds).toFixed(2)), healthy: pool.stats.healthy };
  await pool.close();
}
await wideWatcher.close();
results.poolAcquireRelease4000 = poolCosts;

// ---- 4. Diff of 10,000 peers with 1% churn. ----
// Sorted by id, as a poll gives them (the poll sorts as it builds the set); each round's
// peers are fresh objects with fresh strings, as decoded from a new answer.
const current = Array.from({ length: 10_000 }, (_, i) => fixturePeer(i)).sort(byId);
const diffTimes: number[] = [];
for (let round = 0; round < 200; round++) {
  const next = Array.from({ length: 9_950 }, (_, i) => fixturePeer(i + 50))
    .concat(Array.from({ length: 50 }, (_, i) => fixturePeer(20_000 + i)))
    .sort(byId);
  const t = performance.now();
  diffPeers(current, next);
  diffTimes.push(performance.now() - t);
}
results.diff10k = {
  medianMs: Number(median(diffTimes).toFixed(3)),
  p99Ms: Number(quantile(diffTimes, 0.99).toFixed(3)),
};

// ---- 5. 1,000 services watched at a 1 s interval: CPU share, RSS, memory per peer. ----
// In a process of its own (bench/watch1000.ts), as a service watching them would run: not
// in this one, whose heap and RSS still hold what the sections above left, and whose
// collections and JIT state would be part of the watchers' share. The floors beside it are
// measured in that process too.
results.watch1000 = JSON.parse(
  execFileSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', join(root, 'bench/watch1000.ts'), bind.nameserver, String(SERVICES)],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  ),
);
const floors = results.watch1000 as Record<string, unknown>;

// ---- 6. Import time of the built package. ----
const time = (args: string[]) => {
  const t = performance.now();
  execFileSync(process.execPath, args, { cwd: root });
  return performance.now() - t;
};
// Each against its own empty baseline: an ES module entry costs Node more to start than CJS.
const bare: number[] = [];
const bareEsm: number[] = [];
const esm: number[] = [];
const cjs: number[] = [];
for (let i = 0; i < 10; i++) {
  bare.push(time(['-e', '']));
  bareEsm.push(time(['--input-type=module', '-e', '']));
  esm.push(time(['--input-type=module', '-e', "import 'headless-peers'"]));
  cjs.push(time(['-e', "require('headless-peers')"]));
}
results.importMs = {
  esm: Number((median(esm) - median(bareEsm)).toFixed(1)),
  cjs: Number((median(cjs) - median(bare)).toFixed(1)),
  nodeStartup: Number(median(bare).toFixed(1)),
};

ours.close();
socket.destroy();
raw.close();
await bind.close();

// ---- Report. ----
const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : '-');
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '-');
console.log(
  '\nQueries per second against one BIND 9 on loopback (median of rounds; latency p50/p99 in ms over all rounds)\n',
);
console.log(
  table(
    ['client', ...cases.map((c) => c.label)],
    Object.keys(clients).map((client) => [
      client,
      ...cases.map((c) => {
        const { p50ms, p99ms } = summary[c.label]?.[client] ?? { p50ms: Number.NaN, p99ms: Number.NaN };
        return `${fmt(qps(c.label, client))} q/s (${ms(p50ms)}/${ms(p99ms)})`;
      }),
    ]),
  ),
);
console.log('\nWhole services (median ms)\n');
console.log(
  table(
    ['case', 'ms', 'found'],
    Object.entries(results.wholeServices as Record<string, { ms: number; found: string }>).map(([k, v]) => [
      k,
      v.ms.toFixed(1),
      v.found,
    ]),
  ),
);
// One target row: its label, whether it is met, and what was measured.
type Check = [string, boolean, string];
// DnsClient's throughput on `label` at least `factor` times `other`'s: the median of the
// ratios within each round (both measured a few seconds apart), so that the machine's
// slower and faster spells, which last longer than a round, cancel out.
const throughputAtLeast = (target: string, label: string, other: string, factor: number): Check => {
  const theirs = throughput[label]?.[other]?.qps ?? [];
  const measured = median((throughput[label]?.DnsClient?.qps ?? []).map((q, round) => q / (theirs[round] ?? 0)));
  return [target, measured >= factor, `${measured.toFixed(2)}× (median of ${theirs.length} rounds)`];
};
// DnsClient's p99 on `label` no worse than node:dns's.
const p99NoWorse = (label: string): Check => {
  const [ours, theirs] = [summary[label]?.DnsClient?.p99ms ?? 0, summary[label]?.['node:dns']?.p99ms ?? 0];
  return [`p99 ≤ node:dns, ${label}`, ours <= theirs, `${ms(ours)} vs ${ms(theirs)} ms`];
};
// DnsClient's median time on a whole service against node:dns's (`strict`: faster, not level).
const wholeService = (target: string, oursKey: string, theirsKey: string, strict: boolean): Check => {
  const ours = median(whole[oursKey]?.ms ?? []);
  const theirs = median(whole[theirsKey]?.ms ?? []);
  return [target, strict ? ours < theirs : ours <= theirs, `${ours.toFixed(1)} vs ${theirs.toFixed(1)} ms`];
};
const checks: Check[] = [
  throughputAtLeast('DnsClient ≥ 1.5× node:dns, A c=64', 'A c=64', 'node:dns', 1.5),
  throughputAtLeast('DnsClient ≥ 1.5× node:dns, SRV c=64', 'SRV c=64', 'node:dns', 1.5),
  throughputAtLeast('DnsClient ≥ dns-socket, A c=64', 'A c=64', 'dns-socket', 1),
  throughputAtLeast('DnsClient ≥ dns-socket, SRV c=64', 'SRV c=64', 'dns-socket', 1),
  p99NoWorse('A c=64'),
  p99NoWorse('SRV c=64'),
  wholeService(
    '800 targets with addresses ≤ node:dns doing the same',
    '800 targets: DnsClient (resolvePeers, A+AAAA)',
    '800 targets: node:dns (resolveSrv + A+AAAA, 64 in flight)',
    false,
  ),
  wholeService(
    '4,000 addresses faster than node:dns',
    '4,000 addresses: DnsClient (resolvePeers)',
    '4,000 addresses: node:dns resolve4',
    true,
  ),
  [
    'unchanged 800-target poll ≤ 3 queries',
    (results.unchangedPollQueries as number) <= 3,
    `${results.unchangedPollQueries} queries`,
  ],
  ...(['round-robin', 'least-pending', 'weighted'] as const).map((strategy): Check => {
    const cost = poolCosts[strategy]?.usMedian ?? Number.POSITIVE_INFINITY;
    return [`pool acquire+release, 4,000 healthy peers, ${strategy} ≤ 5 µs`, cost <= 5, `${cost} µs median`];
  }),
  [
    'diff of 10,000 peers (1% churn) < 2 ms',
    (results.diff10k as { medianMs: number }).medianMs < 2,
    `${(results.diff10k as { medianMs: number }).medianMs} ms median`,
  ],
  [
    '1,000 services at 1 s < 10% of one core',
    (floors.cpuPercentOfOneCore as number) < 10,
    `${floors.cpuPercentOfOneCore}% steady (first 10 s ${floors.firstSecondsCpuPercent}%; the same load as raw queries on plain timers ${floors.rawFloorCpuPercent}%, on shared slots ${floors.rawOnSharedSlotsCpuPercent}%; DnsClient.query on them ${floors.clientQueryOnSharedSlotsCpuPercent}%)`,
  ],
];
results.targets = Object.fromEntries(checks.map(([name, ok, value]) => [name, { ok, value }]));
console.log('\nTargets (ratios from this run)\n');
console.log(
  table(
    ['target', 'met', 'measured'],
    checks.map(([name, ok, value]) => [name, ok ? 'yes' : 'NO', value]),
  ),
);
console.log('\nOther figures\n');
console.log(
  JSON.stringify({ watch1000: results.watch1000, diff10k: results.diff10k, importMs: results.importMs }, null, 2),
);
mkdirSync(join(root, 'bench/results'), { recursive: true });
const file = join(root, 'bench/results', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(root, 'bench/results/latest.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwritten to ${file}`);
