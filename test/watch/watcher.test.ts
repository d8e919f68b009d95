import { getEventListeners } from 'node:events';
import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ClusterDns, createClusterDns } from '../../src/testing/index.js';
import { SLOT_MS } from '../../src/watch/coalesce.js';
import { type PeerChange, type PeerWatcher, type WatchPeersOptions, watchPeers } from '../../src/watch/watcher.js';
import { DnsClient } from '../../src/wire/client.js';
import { DnsError } from '../../src/wire/errors.js';
import { finished, polled, record, until } from './helpers.js';

const SVC = 'kafka-headless.default.svc.cluster.local';
const id = (i: number) => `kafka-${i}.${SVC}:9092`;

describe('watchPeers', () => {
  let dns: ClusterDns;
  const watchers: PeerWatcher[] = [];
  let base: WatchPeersOptions;

  function watch(options: Partial<WatchPeersOptions> = {}): PeerWatcher {
    const watcher = watchPeers({ ...base, ...options });
    watchers.push(watcher);
    return watcher;
  }

  function addKafka(i: number, ip = `10.0.0.${i + 1}`): void {
    dns.addPod('kafka-headless', { name: `kafka-${i}`, ip, ports: { kafka: 9092 } });
  }

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    dns = await createClusterDns({ ttl: 5 });
    for (let i = 0; i < 3; i++) addKafka(i);
    base = {
      name: `${SVC}.`,
      port: 'kafka',
      nameservers: [dns.nameserver],
      search: [],
      timeout: 500,
      attempts: 1,
      jitter: 0,
      family: 4,
    };
  });

  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((watcher) => watcher.close()));
    await dns.close();
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it('announces every member with peer-joined, then changed, then resolves ready()', async () => {
    const watcher = watch();
    const events = record(watcher);
    expect(events).toEqual([]);
    expect(watcher.stats.polls).toBe(0);
    const order: string[] = [];
    watcher.on('changed', () => order.push('changed'));
    const ready = watcher.ready().then((peers) => {
      order.push('ready');
      return peers;
    });
    const peers = await ready;
    expect(peers.map((peer) => peer.id)).toEqual([0, 1, 2].map(id));
    expect(events).toEqual([...[0, 1, 2].map((i) => `joined ${id(i)}`), 'changed 3']);
    expect(order).toEqual(['changed', 'ready']);
    expect(watcher.peers()).toEqual(peers);
    expect(await watcher.ready()).toEqual(peers);
  });

  it('with jitter, spreads watchers started together over the period, then polls them on shared slot boundaries', async () => {
    const client = new DnsClient({ nameservers: [dns.nameserver], search: [], ndots: 1, timeout: 500, attempts: 1 });
    try {
      // One shared client (so no nameservers, search, timeout or attempts of their own).
      const many = Array.from({ length: 60 }, () =>
        watchPeers({ name: base.name, port: base.port, family: 4, client, jitter: 0.1 }),
      );
      watchers.push(...many);
      await until(() => many.every((watcher) => watcher.stats.successes === 1), 'first polls');
      const start = Date.now();
      // Polls seen, by watcher: the time of each second and third poll.
      const second = new Map<PeerWatcher, number>();
      const third = new Map<PeerWatcher, number>();
      for (let ms = 0; ms <= 11_000 && third.size < many.length; ms++) {
        await vi.advanceTimersByTimeAsync(1);
        for (const watcher of many) {
          if (watcher.stats.polls >= 2 && !second.has(watcher)) second.set(watcher, Date.now());
          if (watcher.stats.polls >= 3 && !third.has(watcher)) third.set(watcher, Date.now());
        }
      }
      expect(third.size).toBe(many.length);
      // TTL 5 s: the second polls fall anywhere in the first period, not all near its end
      // (60 uniform draws span less than half of it with a chance of about 1 in 10^16).
      const seconds = [...second.values()].map((at) => at - start);
      expect(Math.min(...seconds)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...seconds)).toBeLessThanOrEqual(5000 + SLOT_MS);
      expect(Math.max(...seconds) - Math.min(...seconds)).toBeGreaterThan(2500);
      // From then on 5 s ± 10%, each on the boundary of a slot shared with any other watcher
      // due in it (wakeNear; that a slot's watchers share one timer is tested there).
      for (const [watcher, at] of third) {
        const gap = at - (second.get(watcher) as number);
        expect(gap).toBeGreaterThanOrEqual(4500 - SLOT_MS);
        expect(gap).toBeLessThanOrEqual(5500 + SLOT_MS);
        expect(at % SLOT_MS).toBe(0);
      }
    } finally {
      await Promise.all(watchers.splice(0).map((watcher) => watcher.close()));
      client.close();
    }
  });

  it('polls again after the TTL (5 s), and after minInterval/maxInterval when the TTL is out of bounds', async () => {
    const watcher = watch();
    await polled(watcher, 1);
    expect(watcher.stats.currentInterval).toBe(5000);
    await vi.advanceTimersByTimeAsync(4999);
    expect(watcher.stats.polls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await polled(watcher, 2);

    const zeroTtl = await createClusterDns({ ttl: 0 });
    const longTtl = await createClusterDns({ ttl: 3600 });
    try {
      zeroTtl.addPod('a', { ip: '10.1.0.1' });
      longTtl.addPod('a', { ip: '10.1.0.1' });
      const fast = watch({ name: 'a.default.svc.cluster.local.', port: undefined, nameservers: [zeroTtl.nameserver] });
      const slow = watch({
        name: 'a.default.svc.cluster.local.',
        port: undefined,
        nameservers: [longTtl.nameserver],
        maxInterval: 20_000,
      });
      const fixed = watch({ respectTtl: false, interval: 2500 });
      await Promise.all([polled(fast, 1), polled(slow, 1), polled(fixed, 1)]);
      expect([fast.stats.currentInterval, slow.stats.currentInterval, fixed.stats.currentInterval]).toEqual([
        1000, 20_000, 2500,
      ]);
    } finally {
      await Promise.all(watchers.splice(1).map((w) => w.close()));
      await zeroTtl.close();
      await longTtl.close();
    }
  });

  it('sees joins, leaves and updates as pods change; a restarted pod with a new IP is an update', async () => {
    const watcher = watch({ respectTtl: false, interval: 1000 });
    await watcher.ready();
    const events = record(watcher);
    addKafka(3);
    await vi.advanceTimersByTimeAsync(1000);
    await polled(watcher, 2);
    // Four pods: CoreDNS's weight drops from 33 to 25 for every one, an update each.
    expect(events).toEqual([
      `joined ${id(3)}`,
      ...[0, 1, 2].map((i) => `updated ${id(i)} 10.0.0.${i + 1}->10.0.0.${i + 1}`),
      'changed 4',
    ]);
    events.length = 0;
    const before = watcher.peers();
    addKafka(0, '10.0.9.9');
    await vi.advanceTimersByTimeAsync(1000);
    await polled(watcher, 3);
    expect(events).toEqual([`updated ${id(0)} 10.0.0.1->10.0.9.9`, 'changed 4']);
    // The updated peer is a new object; the others stay the objects they were.
    const after = watcher.peers();
    expect(after[0]).not.toBe(before[0]);
    expect(after.slice(1)).toEqual(before.slice(1));
    for (let i = 1; i < after.length; i++) expect(after[i]).toBe(before[i]);
    events.length = 0;
    dns.removePod('kafka-headless', 'kafka-3');
    await vi.advanceTimersByTimeAsync(1000);
    await polled(watcher, 4);
    expect(events.filter((e) => e.startsWith('left'))).toEqual([`left ${id(3)} absent`]);
    expect(watcher.peers().map((peer) => peer.id)).toEqual([0, 1, 2].map(id));
  });

  it('names: true reads PTR names once, and again only when the address set changes', async () => {
    const watcher = watch({ port: 3306, names: true, respectTtl: false, interval: 1000 });
    await watcher.ready();
    expect(watcher.peers().map((peer) => [peer.name, peer.ordinal])).toEqual(
      [0, 1, 2].map((i) => [`kafka-${i}.${SVC}`, i]),
    );
    expect(dns.stats.byType.PTR).toBe(3);
    await vi.advanceTimersByTimeAsync(1000);
    await polled(watcher, 2);
    expect(dns.stats.byType.PTR).toBe(3);
    addKafka(3);
    await vi.advanceTimersByTimeAsync(1000);
    await polled(watcher, 3);
    expect(dns.stats.byType.PTR).toBe(3 + 4);
    expect(watcher.peers().map((peer) => peer.ordinal)).toEqual([0, 1, 2, 3]);
  });

  it('A/AAAA mode: the address is the identity', async () => {
    const watcher = watch({ port: 5432 });
    await watcher.ready();
    expect(watcher.peers().map((peer) => peer.id)).toEqual(['10.0.0.1:5432', '10.0.0.2:5432', '10.0.0.3:5432']);
  });

  it('empties only after confirmEmpty agreeing polls, with reason empty', async () => {
    const watcher = watch({ respectTtl: false, interval: 1000, confirmEmpty: 3 });
    await watcher.ready();
    const events = record(watcher);
    for (let i = 0; i < 3; i++) dns.setReady('kafka-headless', `kafka-${i}`, false);
    for (let poll = 2; poll <= 3; poll++) {
      await vi.advanceTimersByTimeAsync(1000);
      await polled(watcher, poll);
    }
    expect(events).toEqual([]);
    expect(watcher.peers()).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1000);
    await polled(watcher, 4);
    expect(events).toEqual([...[0, 1, 2].map((i) => `left ${id(i)} empty`), 'changed 0']);
  });

  it('a service that comes back before confirmEmpty is reached changes nothing', async () => {
    const watcher = watch({ respectTtl: false, interval: 1000, confirmEmpty: 2 });
    await watcher.ready();
    const events = record(watcher);
    for (let i = 0; i < 3; i++) dns.setReady('kafka-headless', `kafka-${i}`, false);
    await vi.advanceTimersByTimeAsync(1000);
    await polled(watcher, 2);
    for (let i = 0; i < 3; i++) dns.setReady('kafka-headless', `kafka-${i}`, true);
    await vi.advanceTimersByTimeAsync(1000);
    await polled(watcher, 3);
    expect(events).toEqual([]);
  });

  it('holds a missing peer for leaveAfter before peer-left, and forgives a quick return', async () => {
    // A/AAAA mode: in SRV mode CoreDNS's weights would change with the pod count.
    const watcher = watch({ respectTtl: false, interval: 1000, leaveAfter: 2500, port: 9092 });
    const members = await watcher.ready();
    const events = record(watcher);
    dns.setReady('kafka-headless', 'kafka-1', false);
    for (let poll = 2; poll <= 3; poll++) {
      await vi.advanceTimersByTimeAsync(1000);
      await polled(watcher, poll);
    }
    dns.setReady('kafka-headless', 'kafka-1', true); // back within the hold-down
    await vi.advanceTimersByTimeAsync(1000);
    await polled(watcher, 4);
    expect(events).toEqual([]);
    // Held, then back: every peer is still the object ready() gave.
    for (const [i, peer] of watcher.peers().entries()) expect(peer).toBe(members[i]);
    dns.setReady('kafka-headless', 'kafka-1', false);
    // Absent at polls 5, 6 and 7 (0, 1 and 2 s): still held. At poll 8 (3 s ≥ 2.5 s) it leaves.
    for (let poll = 5; poll <= 8; poll++) {
      await vi.advanceTimersByTimeAsync(1000);
      await polled(watcher, poll);
      if (poll < 8) expect(events).toEqual([]);
    }
    expect(events).toEqual(['left 10.0.0.2:9092 absent', 'changed 2']);
  });

  it('marks a held member absentSince, with peer-missing when it goes and peer-returned when it comes back', async () => {
    const watcher = watch({ respectTtl: false, interval: 1000, leaveAfter: 2500, port: 9092 });
    await watcher.ready();
    const events: string[] = [];
    watcher.on('peer-missing', (peer) => events.push(`missing ${peer.id} since ${peer.absentSince}`));
    watcher.on('peer-returned', (peer) => events.push(`returned ${peer.id} ${peer.absentSince}`));
    watcher.on('peer-left', (peer, reason) => events.push(`left ${peer.id} ${reason}`));
    dns.setReady('kafka-headless', 'kafka-1', false);
    await vi.advanceTimersByTimeAsync(1000);
    await polled(watcher, 2);
    const wentAt = Date.now();
    expect(events).toEqual([`missing 10.0.0.2:9092 since ${wentAt}`]);
    expect(watcher.peers().map((peer) => [peer.id, peer.absentSince])).toEqual([
      ['10.0.0.1:9092', undefined],
      ['10.0.0.2:9092', wentAt],
      ['10.0.0.3:9092', undefined],
    ]);
    await vi.advanceTimersByTimeAsync(1000);
    await polled(watcher, 3);
    expect(events).toHaveLength(1); // missing once, not at every poll
    dns.setReady('kafka-headless', 'kafka-1', true);
    await vi.advanceTimersByTimeAsync(1000);
    await polled(watcher, 4);
    expect(events.slice(1)).toEqual(['returned 10.0.0.2:9092 undefined']);
    expect(watcher.peers().every((peer) => peer.absentSince === undefined)).toBe(true);
    // An empty blip: every member missing, then back.
    for (let i = 0; i < 3; i++) dns.setReady('kafka-headless', `kafka-${i}`, false);
    await vi.advanceTimersByTimeAsync(1000);
    await polled(watcher, 5);
    for (let i = 0; i < 3; i++) dns.setReady('kafka-headless', `kafka-${i}`, true);
    await vi.advanceTimersByTimeAsync(1000);
    await polled(watcher, 6);
    expect(events.slice(2).map((event) => event.split(' ').slice(0, 2).join(' '))).toEqual([
      'missing 10.0.0.1:9092',
      'missing 10.0.0.2:9092',
      'missing 10.0.0.3:9092',
      'returned 10.0.0.1:9092',
      'returned 10.0.0.2:9092',
      'returned 10.0.0.3:9092',
    ]);
    expect(events.some((event) => event.startsWith('left'))).toBe(false);
  });

  it('tells a peer-updated listener what changed: a weight-only update is not a move', async () => {
    const watcher = watch({ respectTtl: false, interval: 1000 });
    await watcher.ready();
    const updates: [string, object][] = [];
    watcher.on('peer-updated', (peer, _previous, changes) => updates.push([peer.id, changes]));
    addKafka(3); // CoreDNS-style weights: floor(100 / 4) for everyone
    await vi.advanceTimersByTimeAsync(1000);
    await polled(watcher, 2);
    const weightOnly = { addresses: false, port: false, weight: true, priority: false };
    expect(updates).toEqual([0, 1, 2].map((i) => [id(i), weightOnly]));
    updates.length = 0;
    addKafka(1, '10.0.0.99'); // a restart with a new IP
    await vi.advanceTimersByTimeAsync(1000);
    await polled(watcher, 3);
    expect(updates).toEqual([[id(1), { addresses: true, port: false, weight: false, priority: false }]]);
  });

  it('keeps membership through failures, emits error each time, backs off to the cap, and recovers silently', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0); // p-retry's randomisation multiplies by 1 + random
    const watcher = watch({ respectTtl: false, interval: 5000, minInterval: 1000, maxInterval: 8000 });
    await watcher.ready();
    const events = record(watcher);
    dns.setFailure('servfail');
    await vi.advanceTimersByTimeAsync(5000);
    await polled(watcher, 2);
    const gaps = [1000, 2000, 4000, 8000, 8000, 8000];
    for (const [n, gap] of gaps.entries()) {
      await vi.advanceTimersByTimeAsync(gap - 1);
      expect(finished(watcher)).toBe(2 + n);
      await vi.advanceTimersByTimeAsync(1);
      await polled(watcher, 3 + n);
      expect(watcher.stats.currentInterval).toBeLessThanOrEqual(8000);
    }
    expect(events).toEqual(Array(7).fill('error ESERVFAIL'));
    expect(watcher.peers()).toHaveLength(3);
    expect(watcher.stats).toMatchObject({ consecutiveFailures: 7, failures: 7, failuresByCode: { ESERVFAIL: 7 } });
    dns.setFailure(null);
    await vi.advanceTimersByTimeAsync(8000);
    await polled(watcher, 9);
    expect(events).toHaveLength(7);
    expect(watcher.stats).toMatchObject({ consecutiveFailures: 0, currentInterval: 5000 });
    await vi.advanceTimersByTimeAsync(5000);
    await polled(watcher, 10);
    expect(watcher.stats.failures).toBe(7);
  });

  it('a silent server is a timeout failure, never an empty set', async () => {
    const watcher = watch({ respectTtl: false, interval: 1000 });
    await watcher.ready();
    const events = record(watcher);
    dns.setFailure('silent');
    await vi.advanceTimersByTimeAsync(1000);
    await until(() => watcher.stats.polls === 2, 'poll in flight');
    await vi.advanceTimersByTimeAsync(500);
    await polled(watcher, 2);
    expect(events).toEqual(['error ETIMEOUT']);
    expect(watcher.peers()).toHaveLength(3);
  });

  it('error events without a listener do not throw, and still count', async () => {
    dns.setFailure('refused');
    const watcher = watch();
    await polled(watcher, 1);
    expect(watcher.stats.failuresByCode).toEqual({ EREFUSED: 1 });
  });

  it('excludeSelf drops the pod named like this host and any pod with a local address', async () => {
    const self = hostname().split('.')[0]?.toLowerCase() ?? 'self';
    dns.addPod('kafka-headless', { name: self, ip: '10.0.0.50', ports: { kafka: 9092 } });
    dns.addPod('kafka-headless', { name: 'local', ip: '127.0.0.1', ports: { kafka: 9092 } });
    const all = watch();
    const others = watch({ excludeSelf: true });
    expect((await all.ready()).length).toBe(5);
    expect((await others.ready()).map((peer) => peer.id)).toEqual([0, 1, 2].map(id));
  });

  it('self names this process: excludeSelf drops it, isSelf() tells it, and without excludeSelf it stays a peer', async () => {
    const byName = watch({ excludeSelf: true, self: { name: 'kafka-1' } });
    const byAddress = watch({ excludeSelf: true, self: { address: '10.0.0.3' } });
    const kept = watch({ self: { name: 'kafka-0.kafka-headless.default.svc.cluster.local', address: '10.0.0.1' } });
    expect((await byName.ready()).map((peer) => peer.id)).toEqual([id(0), id(2)]);
    expect((await byAddress.ready()).map((peer) => peer.id)).toEqual([id(0), id(1)]);
    const peers = await kept.ready();
    expect(peers.map((peer) => kept.isSelf(peer))).toEqual([true, false, false]);
    await kept.refresh();
    expect(kept.peers()).toHaveLength(3);
  });

  it('rejects a bad self with a TypeError naming the field', () => {
    expect(() => watch({ self: { address: 'pod-7' } })).toThrow(
      /^self\.address: expected an IPv4 or IPv6 address, got "pod-7"$/,
    );
    expect(() => watch({ self: { name: '' } })).toThrow(/^self\.name: /);
    expect(() => watch({ self: {} })).toThrow(/^self: give name, address or both$/);
    expect(() => watch({ self: 'me' as unknown as { name: string } })).toThrow(/^self: expected/);
  });

  it('yields changes through the async iterator and ends it on close', async () => {
    const watcher = watch({ respectTtl: false, interval: 1000 });
    const changes: PeerChange[] = [];
    const consumed = (async () => {
      for await (const change of watcher) changes.push(change);
    })();
    await watcher.ready();
    addKafka(3);
    await vi.advanceTimersByTimeAsync(1000);
    await polled(watcher, 2);
    await watcher.close();
    await consumed;
    expect(changes.map((change) => change.joined.length)).toEqual([3, 1]);
    expect(changes[1]?.peers).toHaveLength(4);
  });

  it('refresh() polls now and resolves with the peers; a failed refresh rejects and emits error', async () => {
    const watcher = watch({ respectTtl: false, interval: 60_000 });
    await watcher.ready();
    addKafka(3);
    expect((await watcher.refresh()).map((peer) => peer.id)).toEqual([0, 1, 2, 3].map(id));
    const events = record(watcher);
    dns.setFailure('servfail');
    await expect(watcher.refresh()).rejects.toMatchObject({ code: 'ESERVFAIL' });
    expect(events).toEqual(['error ESERVFAIL']);
  });

  it('a failed refresh() in an outage goes on with the backoff, rather than starting it over', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0); // p-retry's randomisation multiplies by 1 + random
    const watcher = watch({ respectTtl: false, interval: 5000, minInterval: 1000, maxInterval: 30_000 });
    await watcher.ready();
    dns.setFailure('servfail');
    // Failed polls at 5 s, then 1, 2 and 4 s later: four in a row.
    await vi.advanceTimersByTimeAsync(5000);
    for (const [n, gap] of [1000, 2000, 4000].entries()) {
      await polled(watcher, 2 + n);
      await vi.advanceTimersByTimeAsync(gap);
    }
    await polled(watcher, 5);
    expect(watcher.stats.consecutiveFailures).toBe(4);
    await expect(watcher.refresh()).rejects.toMatchObject({ code: 'ESERVFAIL' });
    // Five in a row: the next poll comes 16 s later, not after minInterval.
    expect(watcher.stats.currentInterval).toBe(16_000);
    await vi.advanceTimersByTimeAsync(15_999);
    expect(finished(watcher)).toBe(6);
    await vi.advanceTimersByTimeAsync(1);
    await polled(watcher, 7);
    expect(watcher.stats).toMatchObject({ consecutiveFailures: 6, currentInterval: 30_000 });
  });

  it('closes when its signal aborts; ready() rejects if nothing succeeded yet', async () => {
    dns.setFailure('silent');
    const controller = new AbortController();
    const watcher = watch({ signal: controller.signal });
    const events = record(watcher);
    await until(() => watcher.stats.polls === 1, 'first poll in flight');
    controller.abort();
    await expect(watcher.ready()).rejects.toMatchObject({ code: 'ECANCELLED' });
    expect(watcher.signal.aborted).toBe(true);
    expect(events).toEqual([]);
    await expect(watcher.refresh()).rejects.toBeInstanceOf(DnsError);
  });

  it('close() during a poll in flight cancels it, emits nothing, and is idempotent', async () => {
    const watcher = watch();
    await watcher.ready();
    // Its lookups listen to its signal while they wait, and stop listening once answered.
    expect(getEventListeners(watcher.signal, 'abort')).toHaveLength(0);
    const events = record(watcher);
    dns.setFailure('silent');
    void watcher.refresh().catch(() => {});
    await until(() => watcher.stats.polls === 2, 'poll in flight');
    await until(() => getEventListeners(watcher.signal, 'abort').length === 1, 'lookup in flight');
    await Promise.all([watcher.close(), watcher.close(), watcher[Symbol.asyncDispose]()]);
    expect(events).toEqual([]);
    expect(watcher.peers()).toHaveLength(3);
  });

  it('a poll of an unchanged 800-target service without Additional records sends 3 queries, not 801', async () => {
    const bare = await createClusterDns({ additionals: false });
    try {
      for (let i = 0; i < 800; i++) {
        bare.addPod('big', { name: `big-${i}`, ip: `10.7.${i >> 8}.${i & 255}`, ports: { gossip: 7946 } });
      }
      const watcher = watch({
        name: 'big.default.svc.cluster.local.',
        port: 'gossip',
        family: 0,
        nameservers: [bare.nameserver],
        respectTtl: false,
        interval: 1000,
      });
      const events = record(watcher);
      await watcher.ready();
      expect(watcher.peers()).toHaveLength(800);
      const firstQueries = watcher.stats.queries;
      // SRV, the service's A and AAAA, then an A lookup per target (the service has no
      // IPv6 address, so no target does).
      expect(firstQueries).toBe(1 + 2 + 800);
      await vi.advanceTimersByTimeAsync(1000);
      await polled(watcher, 2);
      expect(watcher.stats.queries - firstQueries).toBe(3);
      // A pod restarted with a new IP: the service's address set changed, so every target
      // is looked up again, and the pod comes out as an update.
      bare.addPod('big', { name: 'big-7', ip: '10.7.99.7', ports: { gossip: 7946 } });
      events.length = 0;
      await vi.advanceTimersByTimeAsync(1000);
      await polled(watcher, 3);
      expect(events).toEqual([`updated big-7.big.default.svc.cluster.local:7946 10.7.0.7->10.7.99.7`, 'changed 800']);
    } finally {
      await bare.close();
    }
  });

  it('rejects bad watch options with a TypeError naming the option', () => {
    const cases: [Partial<WatchPeersOptions>, RegExp][] = [
      [{ interval: 0 }, /^interval: /],
      [{ minInterval: -1 }, /^minInterval: /],
      [{ maxInterval: 1.5 }, /^maxInterval: /],
      [{ minInterval: 5000, maxInterval: 1000 }, /^minInterval: 5000 is above maxInterval 1000/],
      [{ jitter: 2 }, /^jitter: .*2/],
      [{ jitter: Number.NaN }, /^jitter: /],
      [{ confirmEmpty: 0 }, /^confirmEmpty: /],
      [{ leaveAfter: -5 }, /^leaveAfter: .*-5/],
      [{ respectTtl: 'yes' as never }, /^respectTtl: /],
      [{ excludeSelf: 1 as never }, /^excludeSelf: /],
      [{ signal: {} as never }, /^signal: /],
      [{ port: -1 }, /^port: /],
    ];
    for (const [options, message] of cases) {
      expect(() => watchPeers({ ...base, ...options }), JSON.stringify(options)).toThrow(TypeError);
      expect(() => watchPeers({ ...base, ...options })).toThrow(message);
    }
  });
});
