import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BootstrapPlan, bootstrap } from '../../src/formation/bootstrap.js';
import { type ClusterDns, createClusterDns } from '../../src/testing/index.js';
import type { Peer } from '../../src/watch/peer.js';
import { type PeerWatcher, type WatchPeersOptions, watchPeers } from '../../src/watch/watcher.js';

// Pods in one process: each its own watcher (its own `self`) and bootstrap; "in a cluster" is
// a map from address to the cluster id, which the probes read.
const SVC = 'cluster-headless';
const FAST = { interval: 50, minInterval: 50, maxInterval: 200, respectTtl: false, jitter: 0 };

describe('bootstrap() with pods in one process', () => {
  let dns: ClusterDns;
  const watchers: PeerWatcher[] = [];
  const clusters = new Map<string, string>();

  const ip = (i: number) => `10.1.0.${i + 1}`;
  const record = (i: number) => dns.addPod(SVC, { name: `node-${i}`, ip: ip(i), ports: { gossip: 7946 } });

  function watch(i: number, options: Partial<WatchPeersOptions> = {}): PeerWatcher {
    const watcher = watchPeers({
      name: `${SVC}.default.svc.cluster.local.`,
      port: 'gossip',
      nameservers: [dns.nameserver],
      search: [],
      timeout: 500,
      attempts: 1,
      self: { name: `node-${i}`, address: ip(i) },
      ...FAST,
      ...options,
    });
    watchers.push(watcher);
    return watcher;
  }

  const probe = async (peer: Peer) => clusters.has(peer.address);

  /** Starts pod `i`: bootstrap, then form or join as the plan says. */
  async function start(i: number, min: number, stableFor = 300): Promise<BootstrapPlan> {
    const plan = await bootstrap({ watcher: watch(i), probe, min, stableFor, signal: AbortSignal.timeout(20_000) });
    if (plan.action === 'form') clusters.set(ip(i), `cluster-of-${ip(i)}`);
    else clusters.set(ip(i), clusters.get(plan.seeds[0]?.address ?? '') ?? 'none');
    return plan;
  }

  beforeEach(async () => {
    dns = await createClusterDns({ ttl: 1 });
    clusters.clear();
  });

  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((watcher) => watcher.close()));
    await dns.close();
  });

  it('five pods started together, records appearing at random moments: the lowest forms, four join it', async () => {
    for (let trial = 0; trial < 5; trial++) {
      clusters.clear();
      for (let i = 0; i < 5; i++) dns.removePod(SVC, `node-${i}`);
      const timers = [0, 1, 2, 3, 4].map((i) => setTimeout(() => record(i), Math.random() * 500));
      const plans = await Promise.all([0, 1, 2, 3, 4].map((i) => start(i, 5)));
      timers.forEach(clearTimeout);
      expect(plans.map((plan) => plan.action)).toEqual(['form', 'join', 'join', 'join', 'join']);
      expect(new Set(clusters.values())).toEqual(new Set([`cluster-of-${ip(0)}`]));
      await Promise.all(watchers.splice(0).map((watcher) => watcher.close()));
    }
  });

  it('a restarted lowest pod joins the cluster that exists, and a scale-up never forms', async () => {
    for (let i = 0; i < 3; i++) record(i);
    await Promise.all([0, 1, 2].map((i) => start(i, 3)));
    // pod-0 restarts: it is the lowest, and settled, but others say they are in a cluster.
    clusters.delete(ip(0));
    const again = await start(0, 3);
    expect(again).toMatchObject({ action: 'join' });
    expect(again.action === 'join' && again.seeds.map((peer) => peer.address)).toEqual([ip(1), ip(2)]);
    // Scale-up to 5: the new pods join.
    record(3);
    record(4);
    const plans = await Promise.all([3, 4].map((i) => start(i, 3)));
    expect(plans.map((plan) => plan.action)).toEqual(['join', 'join']);
    expect(new Set(clusters.values())).toEqual(new Set([`cluster-of-${ip(0)}`]));
  });

  it('a probe that throws or never answers counts as no for its round', async () => {
    for (let i = 0; i < 3; i++) record(i);
    const never = new Promise<boolean>(() => {});
    const plan = await bootstrap({
      watcher: watch(0),
      min: 3,
      stableFor: 200,
      probeTimeout: 100,
      probe: (peer) => (peer.address === ip(1) ? never : Promise.reject(new Error('connection refused'))),
    });
    expect(plan).toMatchObject({ action: 'form' });
  });

  it('probes one round in parallel, at most probeConcurrency at a time', async () => {
    for (let i = 0; i < 10; i++) record(i);
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    const plan = await bootstrap({
      watcher: watch(5), // not the lowest: it can only join
      min: 10,
      stableFor: 0,
      probeConcurrency: 3,
      probe: async () => {
        calls++;
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight--;
        return calls > 9; // the second round finds a cluster
      },
    });
    expect(plan).toMatchObject({ action: 'join' });
    expect(most).toBe(3);
  });

  it('rejects with ENOSELF once a settled set does not hold this process, naming publishNotReadyAddresses', async () => {
    for (let i = 1; i < 4; i++) record(i); // node-0 not ready: not published
    const error = await bootstrap({ watcher: watch(0), min: 3, stableFor: 200, probe }).catch((err: unknown) => err);
    expect(error).toMatchObject({ name: 'BootstrapError', code: 'ENOSELF' });
    expect(String(error)).toMatch(/publishNotReadyAddresses: true/);
  });

  it('rejects with the signal’s reason on abort, and ECANCELLED when the watcher closes', async () => {
    record(1);
    const controller = new AbortController();
    const aborted = bootstrap({ watcher: watch(0), min: 2, probe, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('shutting down')), 100);
    await expect(aborted).rejects.toThrow('shutting down');
    const watcher = watch(0);
    const closed = bootstrap({ watcher, min: 2, probe });
    setTimeout(() => void watcher.close(), 100);
    await expect(closed).rejects.toMatchObject({ code: 'ECANCELLED' });
  });

  it('rejects bad input with a TypeError naming the option and the value', async () => {
    const watcher = watch(0);
    await expect(bootstrap({ watcher, probe, min: 0 })).rejects.toThrow(
      /^min: expected an integer in 1\.\.100000, got 0$/,
    );
    await expect(bootstrap({ watcher, probe, stableFor: -5 })).rejects.toThrow(/^stableFor: .* got -5$/);
    await expect(bootstrap({ watcher, probe: 'yes' as unknown as () => boolean })).rejects.toThrow(
      /^probe: expected a function, got "yes"$/,
    );
    await expect(bootstrap({ watcher: {} as PeerWatcher, probe })).rejects.toThrow(/^watcher: expected a PeerWatcher/);
    const excluding = watch(0, { excludeSelf: true });
    await expect(bootstrap({ watcher: excluding, probe })).rejects.toThrow(/^watcher: .*excludeSelf: true/);
  });
});
