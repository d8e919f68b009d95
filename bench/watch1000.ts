// Part of `npm run bench` (bench/run.ts starts it with BIND's address and the number of
// services): one process watching 1,000 services at a 1 s interval, as a service would.
// Prints its figures as JSON on stdout: CPU share, collection pauses, RSS, memory per
// watcher and per peer; then floors for the same load, measured the same way here.
import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { cancelWake, wakeNear } from '../src/watch/coalesce.js';
import { withJitter } from '../src/watch/schedule.js';
import type { PeerWatcher } from '../src/watch/watcher.js';
import { rawQueries } from './raw.js';

// The built package, as in bench/run.ts.
const built = '../dist/index.js';
const { DnsClient, watchPeers } = (await import(built)) as typeof import('../src/index.js');
const [nameserver, count] = process.argv.slice(2);
if (nameserver === undefined) throw new Error('usage: watch1000.ts <nameserver> [services]');
const SERVICES = Number(count ?? 1000);
const [host, portText] = nameserver.split(':');
const client = new DnsClient({ nameservers: [nameserver], search: [], ndots: 1, timeout: 2000, attempts: 2 });
const raw = await rawQueries(host ?? '127.0.0.1', Number(portText));
const WARM_UP_MS = 10_000;
const MEASURE_MS = 10_000;

/** This process's CPU time over the next `ms`, as a percentage of one core. */
async function cpuShare(ms: number): Promise<number> {
  const before = process.cpuUsage();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const used = process.cpuUsage(before);
  return Number((((used.user + used.system) / 1000 / (performance.now() - started)) * 100).toFixed(2));
}

const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const { heapUsed: heapBefore, rss: rssBefore } = process.memoryUsage();
const watchers: PeerWatcher[] = [];
for (let s = 0; s < SERVICES; s++) {
  const watcher = watchPeers({
    name: `svc-${s}.default.svc.cluster.local.`,
    port: 'p',
    client,
    respectTtl: false,
    interval: 1000,
  });
  watcher.on('error', () => {});
  watchers.push(watcher);
}
await Promise.all(watchers.map((watcher) => watcher.ready()));
gc?.();
const heapWatching = process.memoryUsage().heapUsed;
const peers = watchers.reduce((sum, watcher) => sum + watcher.peers().length, 0);
// The first seconds carry the start (compiling the hot paths, the first polls spreading
// out, collecting what the start left): measured apart. The target is the steady share
// after them, what a service watching these services costs for the rest of its life.
const startCpu = await cpuShare(WARM_UP_MS);
let gcMs = 0;
const countGc = (entries: PerformanceEntry[]) => {
  for (const entry of entries) gcMs += entry.duration;
};
const gcWatch = new PerformanceObserver((list) => countGc(list.getEntries()));
gcWatch.observe({ entryTypes: ['gc'] });
const wallBefore = performance.now();
const pollsBefore = watchers.reduce((sum, watcher) => sum + watcher.stats.polls, 0);
const steadyCpu = await cpuShare(MEASURE_MS);
const wall = performance.now() - wallBefore;
countGc(gcWatch.takeRecords());
gcWatch.disconnect();
const polls = watchers.reduce((sum, watcher) => sum + watcher.stats.polls, 0) - pollsBefore;
const watch1000: Record<string, unknown> = {
  services: SERVICES,
  pollsPerSecond: Math.round((polls / wall) * 1000),
  cpuPercentOfOneCore: steadyCpu,
  // The first WARM_UP_MS after every watcher was ready.
  firstSecondsCpuPercent: startCpu,
  // Pauses of the main thread for garbage collection, ms per second (part of the CPU share).
  gcMsPerSecond: Number(((gcMs / wall) * 1000).toFixed(2)),
  rssMB: Number((process.memoryUsage().rss / 2 ** 20).toFixed(1)),
  // Before the watchers: Node, the package, and tsx's loader (which runs this file).
  rssBeforeMB: Number((rssBefore / 2 ** 20).toFixed(1)),
  heapPerWatcherKB: Number(((heapWatching - heapBefore) / SERVICES / 1024).toFixed(2)),
  heapPerPeerBytes: Math.round((heapWatching - heapBefore) / peers),
  peers,
  gcExposed: gc !== undefined,
};
await Promise.all(watchers.map((watcher) => watcher.close()));
// Floors for the same load, each measured like the watchers: 1,000 tasks a second, (1) on
// plain timers sending one pre-encoded query and taking the answer, nothing decoded; then,
// woken on the watchers' shared 20 ms slots with their ±10% jitter, (2) the same raw
// query and (3) DnsClient.query of the same SRV question, decoded but nothing built on it.
// Each step adds one layer: the difference to the watchers is the poll and the watcher.
async function cpuOfLoad(start: (service: number) => void, shared: boolean): Promise<number> {
  const stops: (() => void)[] = [];
  for (let s = 0; s < SERVICES; s++) {
    let cancel: () => void;
    const tick = () => {
      start(s);
      cancel = wake(withJitter(1000, 0.1, Math.random()));
    };
    const wake = (delay: number) => {
      if (shared) {
        const slot = wakeNear(delay, tick);
        return () => cancelWake(slot, tick);
      }
      const timer = setTimeout(tick, delay);
      return () => clearTimeout(timer);
    };
    cancel = wake(s);
    stops.push(() => cancel());
  }
  await new Promise((resolve) => setTimeout(resolve, WARM_UP_MS));
  const used = await cpuShare(MEASURE_MS);
  for (const stop of stops) stop();
  return used;
}
const srvName = (s: number) => `_p._tcp.svc-${s}.default.svc.cluster.local`;
const floors = watch1000;
floors.rawFloorCpuPercent = await cpuOfLoad((s) => void raw.query(srvName(s), 'SRV'), false);
floors.rawOnSharedSlotsCpuPercent = await cpuOfLoad((s) => void raw.query(srvName(s), 'SRV'), true);
floors.clientQueryOnSharedSlotsCpuPercent = await cpuOfLoad(
  (s) => void client.query(srvName(s), 'SRV').catch(() => {}),
  true,
);

client.close();
raw.close();
process.stdout.write(`${JSON.stringify(watch1000)}\n`);
