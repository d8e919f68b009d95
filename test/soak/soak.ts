// Soak: 100,000+ polls against the embedded cluster DNS with churn (joins, leaves, IP
// changes, outages). Checks heap growth (< 5 MB after GC), active handles (no growth),
// that every watcher ends up with the true membership, and that the process exits by
// itself after close(): this script never calls process.exit.
// Run: npm run soak   (node --expose-gc; .ci/run runs it after npm test)
import { writeFileSync } from 'node:fs';
import { createClusterDns } from '../../src/testing/index.js';
import { type PeerWatcher, watchPeers } from '../../src/watch/watcher.js';

const TARGET_POLLS = Number(process.env.SOAK_POLLS ?? 100_000);
const WATCHERS = 20;
const LIMIT_MS = 240_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const handles = () => process.getActiveResourcesInfo().filter((kind) => kind !== 'TTYWrap').length;
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
// The watchers keep polling while the heap is measured: take the smallest of several samples,
// so queries in flight at one instant do not count as growth (a leak raises every sample).
async function settledHeap(): Promise<number> {
  let least = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    least = Math.min(least, heap());
    await sleep(100);
  }
  return least;
}

const dns = await createClusterDns({ ttl: 1 });
const live = new Map<string, string>();
let counter = 0;
const addPod = (name: string) => {
  const ip = `10.80.${(counter >> 8) & 255}.${counter & 255}`;
  counter++;
  live.set(name, ip);
  dns.addPod('soak', { name, ip, ports: { p: 7000 } });
};
for (let i = 0; i < 10; i++) addPod(`soak-${i}`);

const handlesBefore = handles();
const watchers: PeerWatcher[] = [];
for (let i = 0; i < WATCHERS; i++) {
  const watcher = watchPeers({
    name: 'soak.default.svc.cluster.local.',
    port: 'p',
    family: 4,
    nameservers: [dns.nameserver],
    respectTtl: false,
    interval: 1,
    minInterval: 1,
    maxInterval: 20,
    jitter: 0.5,
    timeout: 50,
    attempts: 2,
    confirmEmpty: 2,
  });
  watcher.on('error', () => {});
  watchers.push(watcher);
}
await Promise.all(watchers.map((watcher) => watcher.ready()));
const polls = () => watchers.reduce((sum, watcher) => sum + watcher.stats.polls, 0);

// Heap is compared between two like states: the same ten pods, every watcher agreeing with
// DNS, no outage. (Mid-churn, the membership alone moves the heap by several MB.)
const matches = (watcher: PeerWatcher, expected: string) =>
  watcher
    .peers()
    .map((peer) => peer.address)
    .sort()
    .join(',') === expected;
async function settleOnBaseline(): Promise<boolean> {
  dns.setFailure(null);
  for (const name of [...live.keys()]) dns.removePod('soak', name);
  live.clear();
  for (let i = 0; i < 10; i++) {
    const ip = `10.81.0.${i + 1}`;
    live.set(`base-${i}`, ip);
    dns.addPod('soak', { name: `base-${i}`, ip, ports: { p: 7000 } });
  }
  const expected = [...live.values()].sort().join(',');
  for (let waited = 0; waited < 10_000 && !watchers.every((w) => matches(w, expected)); waited += 20) await sleep(20);
  return watchers.every((w) => matches(w, expected));
}

const started = performance.now();
let actions = 0;
let outages = 0;
let baselineHeap = 0;
let peakHeap = 0;
// Churn until the target, one change every 20 ms; the first 10% of polls warm up.
while (polls() < TARGET_POLLS && performance.now() - started < LIMIT_MS) {
  await sleep(20);
  actions++;
  const names = [...live.keys()];
  const roll = Math.random();
  if (roll < 0.3 || names.length < 3) addPod(`soak-${counter}`);
  else if (roll < 0.6) {
    const name = names[Math.floor(Math.random() * names.length)] ?? '';
    dns.removePod('soak', name);
    live.delete(name);
  } else if (roll < 0.9) {
    addPod(names[Math.floor(Math.random() * names.length)] ?? 'soak-x'); // same name, new IP
  } else {
    outages++;
    dns.setFailure(Math.random() < 0.5 ? 'servfail' : 'silent');
    await sleep(30);
    dns.setFailure(null);
  }
  if (live.size > 40) {
    for (const name of [...live.keys()].slice(0, 20)) {
      dns.removePod('soak', name);
      live.delete(name);
    }
  }
  if (baselineHeap === 0 && polls() >= TARGET_POLLS / 10) {
    await settleOnBaseline();
    baselineHeap = await settledHeap();
  }
  if (actions % 100 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  if (process.env.SOAK_TRACE && actions % 500 === 0)
    console.log('polls', polls(), 'heap MB', (heap() / 2 ** 20).toFixed(2), 'pods', live.size);
}
const elapsed = performance.now() - started;
// Every watcher must settle on the final state of the churn (within 10 s: a few polls and a backoff).
const expected = [...live.values()].sort().join(',');
for (let waited = 0; waited < 10_000 && !watchers.every((w) => matches(w, expected)); waited += 20) await sleep(20);
const converged = watchers.every((w) => matches(w, expected)) && (await settleOnBaseline());
if (!converged) {
  const [first] = watchers;
  console.error(
    'expected',
    expected,
    '\ngot',
    first
      ?.peers()
      .map((peer) => `${peer.name}=${peer.address}`)
      .join(','),
    first?.stats,
  );
}
const finalHeap = await settledHeap();
const figures = {
  polls: polls(),
  seconds: Math.round(elapsed / 1000),
  pollsPerSecond: Math.round(polls() / (elapsed / 1000)),
  churnActions: actions,
  outages,
  failedPolls: watchers.reduce((sum, watcher) => sum + watcher.stats.failures, 0),
  heapGrowthMB: Number(((finalHeap - baselineHeap) / 2 ** 20).toFixed(2)),
  peakHeapMB: Number((peakHeap / 2 ** 20).toFixed(1)),
  converged,
};
await Promise.all(watchers.map((watcher) => watcher.close()));
// Closed watchers leave nothing behind: the same handles as before they were made (the DNS
// server's). Sockets finish closing on a later turn of the event loop: give them up to 2 s.
for (let waited = 0; waited < 2000 && handles() > handlesBefore; waited += 20) await sleep(20);
const handlesAfter = handles();
Object.assign(figures, { activeHandles: { beforeWatchers: handlesBefore, afterClose: handlesAfter } });
await dns.close();

const problems: string[] = [];
if (figures.polls < TARGET_POLLS) problems.push(`only ${figures.polls} polls within ${LIMIT_MS} ms`);
if (figures.heapGrowthMB >= 5) problems.push(`heap grew ${figures.heapGrowthMB} MB`);
if (handlesAfter > handlesBefore) problems.push(`active handles grew from ${handlesBefore} to ${handlesAfter}`);
if (!converged) problems.push('a watcher did not end with the true membership');
console.log(JSON.stringify(figures, null, 2));
if (process.env.SOAK_RESULT) writeFileSync(process.env.SOAK_RESULT, JSON.stringify({ ...figures, problems }));
if (problems.length > 0) {
  console.error(`soak: FAILED: ${problems.join('; ')}`);
  process.exitCode = 1;
} else {
  console.log('soak: passed (the process now exits by itself)');
}
