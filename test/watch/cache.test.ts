import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { toPeerQuery } from '../../src/watch/options.js';
import { Poller, type PollOutcome } from '../../src/watch/poll.js';
import type { PeerWatcher } from '../../src/watch/watcher.js';
import { startTableServer, type TableServer } from '../support/table-server.js';
import { EVERY_SECOND, polled, record, watcherSet } from './helpers.js';

// Answers shaped the way caching forwarders (unbound, Knot Resolver: the NodeLocal DNSCache
// shape) gave them: no Additional section, and each name's entry expiring on its own clock.
const SVC = 'app.default.svc.cluster.local';
const SRV = `_http._tcp.${SVC}`;
const pod = (i: number) => `app-${i}.${SVC}`;

describe('behind a cache', () => {
  let dns: TableServer;

  beforeEach(async () => {
    dns = await startTableServer();
    dns.set(
      SRV,
      'SRV',
      [0, 1, 2].map((i) => `8080 ${pod(i)}`),
    );
    dns.set(SVC, 'A', ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    for (let i = 0; i < 3; i++) dns.set(pod(i), 'A', [`10.0.0.${i + 1}`]);
  });

  afterEach(async () => {
    await dns.close();
  });

  describe('the poller', () => {
    function poller() {
      const query = toPeerQuery({
        name: `${SVC}.`,
        port: 'http',
        family: 4,
        nameservers: [dns.nameserver],
        search: [],
      });
      return { poller: new Poller(query), close: () => query.client.close() };
    }
    const addresses = (outcome: PollOutcome) =>
      outcome.kind === 'records' ? outcome.peers.map((peer) => peer.address) : outcome.kind;

    it("asks a restarted pod's record again until it agrees with the service's address set", async () => {
      const { poller: p, close } = poller();
      try {
        expect(addresses(await p.poll())).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
        // app-1 restarts with a new IP. The service's set refreshes first; the pod's own
        // record is served from the cache, old, for two more questions.
        dns.set(SVC, 'A', ['10.0.0.1', '10.0.0.9', '10.0.0.3']);
        dns.set(pod(1), 'A', ['10.0.0.9']);
        dns.serveStale(pod(1), 'A', ['10.0.0.2'], 2);
        const seen: unknown[] = [];
        for (let poll = 0; poll < 5; poll++) seen.push(addresses(await p.poll()));
        expect(seen).toEqual([
          ['10.0.0.1', '10.0.0.2', '10.0.0.3'],
          ['10.0.0.1', '10.0.0.2', '10.0.0.3'],
          ['10.0.0.1', '10.0.0.9', '10.0.0.3'],
          ['10.0.0.1', '10.0.0.9', '10.0.0.3'],
          ['10.0.0.1', '10.0.0.9', '10.0.0.3'],
        ]);
        // Once they agree, a poll costs the SRV and the service's A query again: nothing is re-asked.
        const before = dns.asked.length;
        await p.poll();
        expect(dns.asked.slice(before)).toEqual([`SRV ${SRV}`, `A ${SVC}`]);
      } finally {
        close();
      }
    });

    it('reads an SRV set whose targets all have no address as empty, not as records with no peers', async () => {
      const { poller: p, close } = poller();
      try {
        await p.poll();
        // The pods are gone: their records are NXDOMAIN, the cached SRV set still names them.
        dns.set(SVC, 'A', 'nxdomain');
        for (let i = 0; i < 3; i++) dns.set(pod(i), 'A', 'nxdomain');
        expect(await p.poll()).toMatchObject({ kind: 'empty' });
      } finally {
        close();
      }
    });
  });

  describe('a watcher', () => {
    const { watch, closeAll } = watcherSet(() => ({
      name: `${SVC}.`,
      port: 'http',
      nameservers: [dns.nameserver],
      ...EVERY_SECOND,
    }));

    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    });

    afterEach(async () => {
      await closeAll();
      vi.useRealTimers();
    });

    async function nextPoll(watcher: PeerWatcher, count: number): Promise<void> {
      await vi.advanceTimersByTimeAsync(1000);
      await polled(watcher, count);
    }

    it('keeps every member through a cached SRV set whose pods are NXDOMAIN until confirmEmpty agrees', async () => {
      const watcher = watch({ confirmEmpty: 2 });
      await watcher.ready();
      const events = record(watcher);
      dns.set(SVC, 'A', 'nxdomain');
      for (let i = 0; i < 3; i++) dns.set(pod(i), 'A', 'nxdomain');
      await nextPoll(watcher, 2);
      expect(events).toEqual([]);
      expect(watcher.peers()).toHaveLength(3);
      // Back (the upstream blip is over): nothing happened.
      for (let i = 0; i < 3; i++) dns.set(pod(i), 'A', [`10.0.0.${i + 1}`]);
      dns.set(SVC, 'A', ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
      await nextPoll(watcher, 3);
      expect(events).toEqual([]);
      // For good this time: they leave as 'empty', at the second poll that agrees.
      dns.set(SRV, 'SRV', 'nxdomain');
      for (let i = 0; i < 3; i++) dns.set(pod(i), 'A', 'nxdomain');
      await nextPoll(watcher, 4);
      expect(events).toEqual([]);
      await nextPoll(watcher, 5);
      expect(events).toEqual([...[0, 1, 2].map((i) => `left ${pod(i)}:8080 empty`), 'changed 0']);
    });

    it('empties only after leaveAfter from the first empty answer, however many polls one cached NXDOMAIN meets', async () => {
      const watcher = watch({ confirmEmpty: 2, leaveAfter: 3500 });
      await watcher.ready();
      const events = record(watcher);
      // A 1-second blip upstream, which the cache goes on serving for 3 polls.
      dns.set(SRV, 'SRV', 'nxdomain');
      for (let poll = 2; poll <= 4; poll++) await nextPoll(watcher, poll);
      expect(events).toEqual([]);
      dns.set(
        SRV,
        'SRV',
        [0, 1, 2].map((i) => `8080 ${pod(i)}`),
      );
      await nextPoll(watcher, 5);
      expect(events).toEqual([]);
      expect(watcher.peers()).toHaveLength(3);
      // Gone for good: empty at polls 6 to 9 (0 to 3 s after the first), members leave at
      // poll 10, the first 3.5 s or more after the first empty answer.
      dns.set(SRV, 'SRV', 'nxdomain');
      for (let poll = 6; poll <= 9; poll++) await nextPoll(watcher, poll);
      expect(events).toEqual([]);
      await nextPoll(watcher, 10);
      expect(events).toEqual([...[0, 1, 2].map((i) => `left ${pod(i)}:8080 empty`), 'changed 0']);
    });
  });
});
