import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type PeerWatcher, watchPeers } from '../../src/watch/watcher.js';
import { type BindServer, startBind } from '../support/bind.js';
import { requireNamed, skipIntegration } from '../support/named-required.js';
import { serviceRecords } from '../support/zones.js';

const ZONE = 'cluster.local';
const BASE = 'app.default.svc.cluster.local';
const INTERVAL = 300;

/** Measured detection times, printed at the end (and quoted in the closing note). */
const detections: Record<string, number> = {};

/**
 * The next `event`'s arguments, and the number of the poll that emitted it (polls are
 * counted as they start and never overlap). Bounded: rejects after 10 s.
 */
function waitFor<T>(
  watcher: PeerWatcher,
  event: 'peer-joined' | 'peer-left' | 'peer-updated',
): Promise<{ args: T[]; poll: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within 10 s`)), 10_000);
    watcher.once(event, (...args: unknown[]) => {
      clearTimeout(timer);
      resolve({ args: args as T[], poll: watcher.stats.polls });
    });
  });
}

describe.skipIf(skipIntegration)('watchPeers against BIND 9 changed live with nsupdate', () => {
  let bind: BindServer;
  let watcher: PeerWatcher;
  const events: string[] = [];

  beforeAll(async () => {
    bind = await startBind(requireNamed(), [
      {
        origin: ZONE,
        records: serviceRecords(
          'app',
          [0, 1, 2].map((i) => ({ host: `app-${i}`, ips: [`10.50.0.${i + 1}`] })),
          { http: 8080 },
        ),
      },
    ]);
    watcher = watchPeers({
      name: `${BASE}.`,
      port: 'http',
      family: 4,
      nameservers: [bind.nameserver],
      search: [],
      timeout: 500,
      attempts: 1,
      respectTtl: false,
      interval: INTERVAL,
      minInterval: 100,
      maxInterval: 1000,
      jitter: 0,
      confirmEmpty: 2,
    });
    watcher.on('peer-joined', (peer) => events.push(`joined ${peer.name}`));
    watcher.on('peer-left', (peer, reason) => events.push(`left ${peer.name} ${reason}`));
    watcher.on('peer-updated', (peer, previous) =>
      events.push(`updated ${peer.name} ${previous.address}->${peer.address}`),
    );
    watcher.on('error', (error) => events.push(`error ${error.code}`));
    await watcher.ready();
  });

  afterEach(() => {
    events.length = 0;
  });

  afterAll(async () => {
    await watcher?.close();
    await bind?.close();
    console.info('detection times (ms, interval %d ms):', INTERVAL, detections);
  });

  it('starts with the three pods', () => {
    expect(watcher.peers().map((peer) => peer.name)).toEqual([0, 1, 2].map((i) => `app-${i}.${BASE}`));
  });

  // Each change must be seen by the first poll that starts after it is in place (the poll in
  // flight then may see it too): counted in polls, not in milliseconds, which a loaded machine
  // stretches. The times are printed.
  it('sees a pod added by the next poll', async () => {
    const joined = waitFor(watcher, 'peer-joined');
    const started = performance.now();
    await bind.update(ZONE, [
      `update add app-3.${BASE}. 5 A 10.50.0.4`,
      `update add ${BASE}. 5 A 10.50.0.4`,
      `update add _http._tcp.${BASE}. 5 SRV 0 25 8080 app-3.${BASE}.`,
    ]);
    const polled = watcher.stats.polls;
    const {
      args: [peer],
      poll,
    } = await joined;
    detections.join = Math.round(performance.now() - started);
    expect(peer).toMatchObject({ name: `app-3.${BASE}`, address: '10.50.0.4', port: 8080, ordinal: 3 });
    expect(poll).toBeLessThanOrEqual(polled + 1);
  });

  it('sees a pod address change as peer-updated', async () => {
    const updated = waitFor(watcher, 'peer-updated');
    const started = performance.now();
    await bind.update(ZONE, [
      `update delete app-1.${BASE}. A`,
      `update add app-1.${BASE}. 5 A 10.50.1.2`,
      `update delete ${BASE}. A 10.50.0.2`,
      `update add ${BASE}. 5 A 10.50.1.2`,
    ]);
    const polled = watcher.stats.polls;
    const {
      args: [peer, previous],
      poll,
    } = await updated;
    detections.update = Math.round(performance.now() - started);
    expect([previous, peer]).toMatchObject([{ address: '10.50.0.2' }, { name: `app-1.${BASE}`, address: '10.50.1.2' }]);
    expect(poll).toBeLessThanOrEqual(polled + 1);
    expect(events.filter((e) => e.startsWith('left') || e.startsWith('joined'))).toEqual([]);
  });

  it('keeps an unchanged peer as the same object, its TTL that of the latest answer', async () => {
    const before = watcher.peers();
    const successes = watcher.stats.successes;
    // The same address with a TTL of 2 s: no change a user acts on, so no event.
    await bind.update(ZONE, [`update delete app-2.${BASE}. A`, `update add app-2.${BASE}. 2 A 10.50.0.3`]);
    const deadline = performance.now() + 5000;
    while (watcher.stats.successes < successes + 2 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const after = watcher.peers();
    expect(after).toHaveLength(before.length);
    for (const [i, peer] of after.entries()) expect(peer).toBe(before[i]);
    expect(after.map((peer) => peer.ttl)).toEqual(after.map((peer) => (peer.name === `app-2.${BASE}` ? 2 : 5)));
    expect(events).toEqual([]);
  });

  it('sees a pod removed as peer-left absent', async () => {
    const left = waitFor(watcher, 'peer-left');
    const started = performance.now();
    await bind.update(ZONE, [
      `update delete _http._tcp.${BASE}. SRV 0 25 8080 app-3.${BASE}.`,
      `update delete ${BASE}. A 10.50.0.4`,
      `update delete app-3.${BASE}.`,
    ]);
    const polled = watcher.stats.polls;
    const {
      args: [peer, reason],
      poll,
    } = await left;
    detections.leave = Math.round(performance.now() - started);
    expect([peer, reason]).toMatchObject([{ name: `app-3.${BASE}` }, 'absent']);
    expect(poll).toBeLessThanOrEqual(polled + 1);
  });

  it('keeps every peer while named is stopped: errors, and not one peer-left', async () => {
    await bind.stop();
    const errors = new Promise<void>((resolve) => {
      const count = () => {
        if (events.filter((e) => e.startsWith('error')).length >= 4) {
          watcher.off('error', count);
          resolve();
        }
      };
      watcher.on('error', count);
    });
    await errors;
    expect(events.every((e) => e.startsWith('error'))).toBe(true);
    expect(watcher.peers()).toHaveLength(3);
    expect(watcher.stats.consecutiveFailures).toBeGreaterThanOrEqual(4);
  });

  it('sees no events at all when named comes back with the same data', async () => {
    events.length = 0;
    const successes = watcher.stats.successes;
    await bind.start();
    const deadline = performance.now() + 5000;
    while (watcher.stats.successes < successes + 3 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(watcher.stats.successes).toBeGreaterThanOrEqual(successes + 3);
    expect(events.filter((e) => !e.startsWith('error'))).toEqual([]);
    expect(watcher.stats.consecutiveFailures).toBe(0);
  });

  it('empties the set only after confirmEmpty polls agree the service is gone (NXDOMAIN)', async () => {
    const names = watcher.peers().map((peer) => peer.name);
    const started = performance.now();
    const gone = new Promise<void>((resolve) => {
      watcher.on('changed', (change) => {
        if (change.peers.length === 0) resolve();
      });
    });
    await bind.update(ZONE, [`update delete _http._tcp.${BASE}.`]);
    await gone;
    detections.empty = Math.round(performance.now() - started);
    expect(events.filter((e) => e.startsWith('left'))).toEqual(names.map((name) => `left ${name} empty`).sort());
    // At least confirmEmpty (2) polls: the set emptied no sooner than one interval after the first NXDOMAIN.
    expect(detections.empty).toBeGreaterThanOrEqual(INTERVAL);
  });
});
