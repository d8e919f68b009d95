import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ClusterDns, createClusterDns } from '../../src/testing/index.js';
import { type PeerWatcher, type WatchPeersOptions, watchPeers } from '../../src/watch/watcher.js';
import { DnsClient } from '../../src/wire/client.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { until } from '../watch/helpers.js';

/** Figures of each scenario, printed at the end and quoted in docs/reliability.md. */
const figures: Record<string, Record<string, unknown>> = {};
afterAll(() => console.info('fault scenario figures:', JSON.stringify(figures, null, 2)));

const SVC = 'app.default.svc.cluster.local.';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('faults between the client and the server', () => {
  let dns: ClusterDns;
  let proxy: FaultProxy;
  const watchers: PeerWatcher[] = [];
  const addPod = (i: number, ip = `10.60.0.${i + 1}`) =>
    dns.addPod('app', { name: `app-${i}`, ip, ports: { http: 80 } });

  function watch(options: Partial<WatchPeersOptions> = {}): PeerWatcher {
    const watcher = watchPeers({
      name: SVC,
      port: 'http',
      family: 4,
      nameservers: [proxy.nameserver],
      respectTtl: false,
      jitter: 0,
      ...options,
    });
    watcher.on('error', () => {});
    watchers.push(watcher);
    return watcher;
  }

  beforeEach(async () => {
    dns = await createClusterDns({ ttl: 1 });
    for (let i = 0; i < 5; i++) addPod(i);
    proxy = await startFaultProxy(dns.port);
  });

  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((watcher) => watcher.close()));
    await proxy.close();
    await dns.close();
  });

  it('30% UDP loss each way over 500+ polls: no spurious peer-left, every real change seen by the first good poll after it', async () => {
    const INTERVAL = 100;
    proxy.faults.dropQuery = 0.3;
    proxy.faults.dropAnswer = 0.3;
    // Ten watchers share the 500+ polls; each retries a lost exchange after 15 ms.
    const group = Array.from({ length: 10 }, () =>
      watch({ interval: INTERVAL, timeout: 15, attempts: 5, minInterval: 10, maxInterval: INTERVAL }),
    );
    const expected = new Set([0, 1, 2, 3, 4].map((i) => `app-${i}`));
    const spurious: string[] = [];
    const delays: number[] = [];
    // Good polls each watcher finished from a change until it saw it: the first poll answered
    // after the change sees it, and at most one poll answered before it finishes after it.
    // (Counted in polls, not milliseconds: on a loaded 2-core machine timers fire late.)
    const pollsToSee: number[] = [];
    let changedAt = 0;
    const pending = new Map<PeerWatcher, string>();
    const successesAtChange = new Map<PeerWatcher, number>();
    const seen = (watcher: PeerWatcher) => {
      delays.push(performance.now() - changedAt);
      pollsToSee.push(watcher.stats.successes - (successesAtChange.get(watcher) ?? 0));
      pending.delete(watcher);
    };
    for (const watcher of group) {
      watcher.on('peer-left', (peer) => {
        const name = peer.name?.split('.')[0] ?? '';
        if (expected.has(name)) spurious.push(name);
        if (pending.get(watcher) === `-${name}`) seen(watcher);
      });
      watcher.on('peer-joined', (peer) => {
        const name = peer.name?.split('.')[0] ?? '';
        if (pending.get(watcher) === `+${name}`) seen(watcher);
      });
    }
    await Promise.all(group.map((watcher) => watcher.ready()));
    // Churn: a pod 5 comes and goes every 600 ms while the watchers poll through the loss.
    let next = 5;
    while (group.reduce((sum, watcher) => sum + watcher.stats.polls, 0) < 550) {
      await sleep(600);
      changedAt = performance.now();
      for (const watcher of group) successesAtChange.set(watcher, watcher.stats.successes);
      if (expected.has(`app-${next}`)) {
        dns.removePod('app', `app-${next}`);
        expected.delete(`app-${next}`);
        for (const watcher of group) pending.set(watcher, `-app-${next}`);
        next++;
      } else {
        addPod(next);
        expected.add(`app-${next}`);
        for (const watcher of group) pending.set(watcher, `+app-${next}`);
      }
      await until(() => pending.size === 0, 'every watcher to see the change');
    }
    const polls = group.reduce((sum, watcher) => sum + watcher.stats.polls, 0);
    const failures = group.reduce((sum, watcher) => sum + watcher.stats.failures, 0);
    figures.loss = {
      polls,
      failedPolls: failures,
      droppedQueries: proxy.counts.droppedQueries,
      droppedAnswers: proxy.counts.droppedAnswers,
      changesSeen: delays.length,
      maxDetectionMs: Math.round(Math.max(...delays)),
      medianDetectionMs: Math.round([...delays].sort((a, b) => a - b)[delays.length >> 1] ?? 0),
      maxGoodPollsToSee: Math.max(...pollsToSee),
      spuriousLeaves: spurious.length,
    };
    expect(polls).toBeGreaterThanOrEqual(500);
    expect(spurious).toEqual([]);
    expect(pollsToSee).toHaveLength(delays.length);
    expect(Math.max(...pollsToSee)).toBeLessThanOrEqual(2);
    for (const watcher of group) {
      expect(new Set(watcher.peers().map((peer) => peer.name?.split('.')[0]))).toEqual(expected);
    }
  });

  it('SERVFAIL, REFUSED and silence for many polls: membership unchanged, an error per failed poll, backoff to its cap, silent recovery', async () => {
    const watcher = watch({ interval: 100, minInterval: 10, maxInterval: 160, timeout: 30, attempts: 1 });
    await watcher.ready();
    // A poll that timed out (30 ms) on a loaded machine before the listeners below.
    const failedBefore = watcher.stats.failures;
    const events: string[] = [];
    const errorTimes: number[] = [];
    watcher.on('peer-left', (peer) => events.push(`left ${peer.id}`));
    watcher.on('peer-joined', (peer) => events.push(`joined ${peer.id}`));
    watcher.on('peer-updated', (peer) => events.push(`updated ${peer.id}`));
    const scheduled: number[] = [];
    watcher.on('error', (error) => {
      events.push(`error ${error.code}`);
      errorTimes.push(performance.now());
      // Read after p-retry has set the next wait.
      queueMicrotask(() => scheduled.push(watcher.stats.currentInterval));
    });
    const phases: [string, () => void][] = [
      ['ESERVFAIL', () => Object.assign(proxy.faults, { rcode: 'SERVFAIL' })],
      ['EREFUSED', () => Object.assign(proxy.faults, { rcode: 'REFUSED' })],
      ['ETIMEOUT', () => Object.assign(proxy.faults, { rcode: undefined, silent: true })],
    ];
    for (const [, start] of phases) {
      start();
      const before = watcher.stats.failures;
      await until(() => watcher.stats.failures >= before + 8, '8 failed polls');
    }
    const gaps = errorTimes.slice(1).map((t, i) => t - (errorTimes[i] ?? t));
    proxy.faults.silent = false;
    const successes = watcher.stats.successes;
    await until(() => watcher.stats.successes > successes, 'a good poll');
    await sleep(350); // three more polls on the normal schedule
    figures.failures = {
      failedPolls: watcher.stats.failures,
      failuresByCode: watcher.stats.failuresByCode,
      errorEvents: events.filter((e) => e.startsWith('error')).length,
      scheduledBackoffMs: scheduled.slice(0, 8),
      firstGapsMs: gaps.slice(0, 6).map(Math.round),
      maxGapMs: Math.round(Math.max(...gaps)),
      eventsAfterRecovery: events.filter((e) => !e.startsWith('error')).length,
    };
    expect(events.filter((e) => !e.startsWith('error'))).toEqual([]);
    expect(events.filter((e) => e.startsWith('error'))).toHaveLength(watcher.stats.failures - failedBefore);
    expect(watcher.stats.failuresByCode).toMatchObject({
      ESERVFAIL: expect.any(Number),
      EREFUSED: expect.any(Number),
      ETIMEOUT: expect.any(Number),
    });
    expect(watcher.peers()).toHaveLength(5);
    // Backoff grows from 10 ms to the 160 ms cap and never beyond; the measured gaps add
    // each poll's own time (and this machine's load) to that.
    expect(scheduled.slice(0, 4)).toEqual([10, 20, 40, 80]);
    expect(Math.max(...scheduled)).toBe(160);
    expect(Math.max(...gaps)).toBeGreaterThan(100);
    // An upper bound only against a runaway: on a loaded 2-core machine timers fire late.
    expect(Math.max(...gaps)).toBeLessThan(2000);
    expect(watcher.stats).toMatchObject({ consecutiveFailures: 0, currentInterval: 100 });
  });

  it('CoreDNS-style truncation: never a partial membership; TCP gives the full set', async () => {
    for (let i = 5; i < 60; i++) addPod(i);
    proxy.faults.truncate = 512;
    const watcher = watch({ interval: 30, timeout: 500, attempts: 1, minInterval: 10, maxInterval: 100 });
    const sizes: number[] = [];
    watcher.on('changed', (change) => sizes.push(change.peers.length));
    await watcher.ready();
    await until(() => watcher.stats.successes >= 10, '10 polls');
    proxy.faults.tcpCloseMidAnswer = true;
    const failures = watcher.stats.failures;
    await until(() => watcher.stats.failures >= failures + 3, '3 polls cut over TCP');
    figures.truncation = {
      polls: watcher.stats.polls,
      truncatedUdpAnswers: proxy.counts.truncated,
      tcpFallbacks: watcher.stats.tcpFallbacks,
      tcpCutPolls: watcher.stats.failures,
      membershipSizes: [...new Set(sizes)],
    };
    expect(sizes).toEqual([60]);
    expect(watcher.peers()).toHaveLength(60);
    expect(watcher.stats.tcpFallbacks).toBeGreaterThanOrEqual(10);
  });

  it('spoofed and duplicate answers are ignored', async () => {
    proxy.faults.spoof = true;
    proxy.faults.duplicate = 1;
    const watcher = watch({ interval: 10, minInterval: 10 });
    const addresses = new Set<string>();
    watcher.on('changed', (change) => {
      for (const peer of change.peers) addresses.add(peer.address);
    });
    await watcher.ready();
    await until(() => watcher.stats.successes >= 100, '100 polls');
    figures.spoofing = {
      polls: watcher.stats.polls,
      forgedAnswers: (proxy.counts.spoofs ?? 0) * 3,
      duplicated: proxy.counts.duplicated,
      failures: watcher.stats.failures,
    };
    expect([...addresses].sort()).toEqual([1, 2, 3, 4, 5].map((i) => `10.60.0.${i}`));
    expect(watcher.stats.failures).toBe(0);
  });

  it('a late answer to an earlier query is never applied to a later one', async () => {
    const client = new DnsClient({ nameservers: [proxy.nameserver], timeout: 150, attempts: 1 });
    try {
      // The first answer (10.60.0.1) takes 200 ms: the query gives up at 150 ms.
      proxy.faults.delay = 200;
      await expect(client.query(`app-0.${SVC}`, 'A')).rejects.toMatchObject({ code: 'ETIMEOUT' });
      // The data changes; the same question again, on the same socket. Its own answer takes
      // 100 ms, so the first one's late answer arrives while it waits, and must be dropped.
      addPod(0, '10.60.9.9');
      proxy.faults.delay = 100;
      const second = await client.query(`app-0.${SVC}`, 'A');
      expect(second.answers.map((record) => ('data' in record ? record.data : ''))).toEqual(['10.60.9.9']);
      figures.lateAnswer = { lateAnswerArrivedDuringSecondQuery: true, secondQueryGot: '10.60.9.9' };
    } finally {
      client.close();
    }
  });

  it('two nameservers, the first dead: every poll still succeeds', async () => {
    const dead = await startFaultProxy(dns.port, { silent: true });
    try {
      const watcher = watch({
        nameservers: [dead.nameserver, proxy.nameserver],
        interval: 10,
        minInterval: 10,
        timeout: 50,
        attempts: 2,
      });
      await watcher.ready();
      await until(() => watcher.stats.successes >= 100, '100 polls');
      figures.deadFirstNameserver = {
        polls: watcher.stats.polls,
        failures: watcher.stats.failures,
        queriesToDeadServer: dead.counts.queries,
      };
      expect(watcher.stats.failures).toBe(0);
    } finally {
      await dead.close();
    }
  });
});
