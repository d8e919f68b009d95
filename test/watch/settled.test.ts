import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ClusterDns, createClusterDns } from '../../src/testing/index.js';
import type { Peer } from '../../src/watch/peer.js';
import type { PeerWatcher } from '../../src/watch/watcher.js';
import { EVERY_SECOND, polled, watcherSet } from './helpers.js';

const SVC = 'cluster-headless.default.svc.cluster.local';

describe('watcher.settled()', () => {
  let dns: ClusterDns;
  const { watch, closeAll } = watcherSet(() => ({
    name: `${SVC}.`,
    port: 'gossip',
    nameservers: [dns.nameserver],
    ...EVERY_SECOND,
    minInterval: 1000,
  }));

  function addPod(i: number): void {
    dns.addPod('cluster-headless', { name: `node-${i}`, ip: `10.0.0.${i + 1}`, ports: { gossip: 7946 } });
  }

  /** The promise's outcome so far: pending, or what it settled with. */
  function track(promise: Promise<Peer[]>): { state: string; peers?: Peer[]; error?: unknown } {
    const outcome: { state: string; peers?: Peer[]; error?: unknown } = { state: 'pending' };
    promise.then(
      (peers) => Object.assign(outcome, { state: 'resolved', peers }),
      (error: unknown) => Object.assign(outcome, { state: 'rejected', error }),
    );
    return outcome;
  }

  async function poll(watcher: PeerWatcher, count: number): Promise<void> {
    await vi.advanceTimersByTimeAsync(1000);
    await polled(watcher, count);
  }

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    dns = await createClusterDns();
  });

  afterEach(async () => {
    await closeAll();
    await dns.close();
    vi.useRealTimers();
  });

  it('waits for min peers, then for stableFor across two successful polls', async () => {
    for (let i = 0; i < 2; i++) addPod(i);
    const watcher = watch();
    await watcher.ready();
    const settled = track(watcher.settled({ min: 3, stableFor: 2000 }));
    for (let count = 2; count <= 4; count++) await poll(watcher, count);
    expect(settled.state).toBe('pending'); // two peers, however long they stay
    addPod(2);
    await poll(watcher, 5); // the third appears: the quiet period starts here
    await poll(watcher, 6); // 1 s
    expect(settled.state).toBe('pending');
    await poll(watcher, 7); // 2 s
    expect(settled.state).toBe('resolved');
    expect(settled.peers?.map((peer) => peer.name?.split('.')[0])).toEqual(['node-0', 'node-1', 'node-2']);
    // Already settled: at once.
    await expect(watcher.settled({ min: 3, stableFor: 2000 })).resolves.toHaveLength(3);
  });

  it('starts the quiet period again when the set changes during it', async () => {
    for (let i = 0; i < 3; i++) addPod(i);
    const watcher = watch();
    await watcher.ready();
    const settled = track(watcher.settled({ min: 3, stableFor: 2000 }));
    await poll(watcher, 2); // 1 s quiet
    addPod(3);
    await poll(watcher, 3); // changed: quiet from here
    await poll(watcher, 4);
    expect(settled.state).toBe('pending');
    await poll(watcher, 5);
    expect(settled.state).toBe('resolved');
    expect(settled.peers).toHaveLength(4);
  });

  it('takes no failed poll as evidence: the latest must succeed, and the quiet period starts after it', async () => {
    for (let i = 0; i < 3; i++) addPod(i);
    const watcher = watch({ maxInterval: 1000 });
    await watcher.ready();
    const settled = track(watcher.settled({ min: 3, stableFor: 2000 }));
    await poll(watcher, 2);
    dns.setFailure('servfail');
    for (let count = 3; count <= 5; count++) await poll(watcher, count);
    expect(watcher.stats.failures).toBe(3);
    expect(settled.state).toBe('pending'); // 4 s since the set was first seen, but not by successes
    dns.setFailure(null);
    await poll(watcher, 6);
    await poll(watcher, 7);
    expect(settled.state).toBe('pending');
    await poll(watcher, 8);
    expect(settled.state).toBe('resolved');
  });

  it('rejects with the signal’s reason on abort, and when the watcher closes', async () => {
    addPod(0);
    const watcher = watch();
    await watcher.ready();
    const controller = new AbortController();
    const aborted = track(watcher.settled({ min: 2, signal: controller.signal }));
    const closed = track(watcher.settled({ min: 2 }));
    controller.abort(new Error('gave up'));
    await vi.advanceTimersByTimeAsync(0);
    expect(aborted).toMatchObject({ state: 'rejected', error: new Error('gave up') });
    expect(closed.state).toBe('pending');
    await watcher.close();
    expect(closed).toMatchObject({ state: 'rejected', error: { code: 'ECANCELLED' } });
    await expect(watcher.settled()).rejects.toMatchObject({ code: 'ECANCELLED' });
    await expect(watcher.settled({ signal: AbortSignal.abort('early') })).rejects.toBe('early');
  });

  it('rejects bad options with a TypeError naming the option and the value', async () => {
    addPod(0);
    const watcher = watch();
    expect(() => watcher.settled({ min: 0 })).toThrow(/^min: expected an integer in 1\.\.100000, got 0$/);
    expect(() => watcher.settled({ stableFor: -1 })).toThrow(/^stableFor: .* got -1$/);
    expect(() => watcher.settled({ stableFor: 1.5 })).toThrow(TypeError);
    expect(() => watcher.settled({ signal: 'soon' as unknown as AbortSignal })).toThrow(/^signal: /);
  });
});
