import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Peer, resolvePeers } from '../../src/index.js';
import { toPeerQuery } from '../../src/watch/options.js';
import { Poller } from '../../src/watch/poll.js';
import { type PeerWatcher, watchPeers } from '../../src/watch/watcher.js';
import { DnsClient } from '../../src/wire/client.js';
import { type BindServer, startBind, type ZoneSpec } from '../support/bind.js';
import { inCi, requireNamed, skipIntegration } from '../support/named-required.js';
import { knot, type OtherServer, SERVER_KINDS, type ServerKind, unbound } from '../support/servers.js';
import { clusterZones, serviceRecords } from '../support/zones.js';

// The same cases through other DNS servers: caches in front of BIND 9 (the NodeLocal DNSCache
// shape, changes made with nsupdate show through them) and other authoritative servers loaded
// with BIND's zone files. CI runs unbound and Knot DNS; `npm run interop` runs every server.
const everyServer = process.env.HEADLESS_PEERS_INTEROP === 'all';
const kinds = everyServer ? SERVER_KINDS : [unbound, knot];

const FQDN = (service: string) => `${service}.default.svc.cluster.local.`;
// The watched service, with short TTLs so that cache entries expire within the test. A pod's
// own record lives longer in the cache than the service's sets: the timing in which a cache
// answered a restarted pod's old address after the service's set already had its new one.
const APP = 'app.default.svc.cluster.local';
const APP_TTL = 2;
const POD_TTL = 5;
// A watch step waits up to 20 s for its event, then up to 30 s for quiet.
const WATCH_STEP_MS = 60_000;

function zones(): ZoneSpec[] {
  const [cluster, ...rest] = clusterZones();
  const app = serviceRecords(
    'app',
    [0, 1, 2].map((i) => ({ host: `app-${i}`, ips: [`10.50.0.${i + 1}`] })),
    { http: 8080 },
  ).map((line) => line.replace(' IN ', ` ${line.startsWith('app-') ? POD_TTL : APP_TTL} IN `));
  return [{ origin: 'cluster.local', records: [...(cluster?.records ?? []), ...app] }, ...rest];
}

/** What a test sees of a peer whatever server answered: everything but the TTL a cache counts down. */
function shape(peers: Peer[]): Omit<Peer, 'ttl'>[] {
  return peers.map(({ ttl: _ttl, ...rest }) => rest);
}

function missing(kind: ServerKind): boolean {
  if (kind.program !== undefined) return false;
  const message = `${kind.name} is not installed (apt-get install -y ${kind.debianPackage})`;
  if (inCi && !everyServer) throw new Error(`${message}, and CI=true: the interop tests cannot run`);
  console.warn(`\n*** SKIPPING the ${kind.name} interop tests: ${message} ***\n`);
  return true;
}

/** One row of a server's table: a case, whether it passed, and what was measured. */
interface Row {
  case: string;
  result: 'pass' | 'FAIL';
  measured: string;
}

/**
 * Waits until `ok()` holds, checking after each poll of `watcher` that finished, for at most
 * `ms` of real time.
 */
async function untilPolled(watcher: PeerWatcher, ok: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  void watcher;
}

for (const kind of kinds) {
  describe.skipIf(skipIntegration || missing(kind))(`${kind.name} (${kind.kind})`, () => {
    let bind: BindServer;
    let server: OtherServer;
    const rows: Row[] = [];

    /** A case: a test whose outcome and measurement go into the server's table. */
    function check(name: string, body: () => Promise<string | undefined>, timeout = 30_000): void {
      it(
        name,
        async () => {
          try {
            const measured = await body();
            rows.push({ case: name, result: 'pass', measured: measured ?? '' });
          } catch (err) {
            rows.push({ case: name, result: 'FAIL', measured: String(err).split('\n')[0] ?? '' });
            throw err;
          }
        },
        timeout,
      );
    }

    beforeAll(async () => {
      bind = await startBind(requireNamed(), zones());
      server = await kind.start(zones(), bind.nameserver);
    }, 60_000);

    afterAll(async () => {
      await server?.close();
      await bind?.close();
      const width = Math.max(...rows.map((row) => row.case.length), 4);
      const lines = rows.map((row) => `| ${row.case.padEnd(width)} | ${row.result.padEnd(6)} | ${row.measured} |`);
      console.info(
        [
          `\n${kind.name} (${kind.kind === 'cache' ? 'cache in front of BIND 9' : 'authoritative, BIND 9 zone files'})`,
          `| ${'case'.padEnd(width)} | result | measured |`,
          `| ${'-'.repeat(width)} | ------ | -------- |`,
          ...lines,
        ].join('\n'),
      );
    });

    /** The peers through `server` and straight from BIND must be the same. */
    async function same(options: Parameters<typeof resolvePeers>[0], expected: number): Promise<string> {
      const direct = await resolvePeers({ ...options, nameservers: [bind.nameserver], search: [] });
      const through = await resolvePeers({ ...options, nameservers: [server.nameserver], search: [] });
      expect(direct).toHaveLength(expected);
      expect(shape(through)).toEqual(shape(direct));
      return `${through.length} peers, ${through.reduce((n, peer) => n + peer.addresses.length, 0)} addresses`;
    }

    check('3-pod StatefulSet, SRV', () => same({ name: FQDN('kafka-headless'), port: 'kafka' }, 3));
    check('dashed-IP targets', () => same({ name: FQDN('web'), port: 'http' }, 2));
    check('dual stack', async () => {
      const measured = await same({ name: FQDN('dual'), port: 'grpc' }, 2);
      await same({ name: FQDN('dual'), port: 'grpc', family: 6 }, 2);
      await same({ name: FQDN('dual'), port: 443 }, 4);
      return measured;
    });
    check('800 targets, every address', () => same({ name: FQDN('big'), port: 'gossip' }, 800));
    check('4,000 addresses', () => same({ name: FQDN('wide') }, 4000));
    check('PTR names', async () => {
      const measured = await same({ name: FQDN('mysql'), port: 3306, names: true }, 3);
      const peers = await resolvePeers({
        name: FQDN('mysql'),
        port: 3306,
        names: true,
        nameservers: [server.nameserver],
      });
      expect(peers.map((peer) => peer.ordinal)).toEqual([0, 1, 2]);
      return measured;
    });
    check('NXDOMAIN and NODATA', async () => {
      const client = new DnsClient({ nameservers: [server.nameserver], search: [], timeout: 2000, attempts: 2 });
      try {
        expect((await client.query(FQDN('gone'), 'A')).status).toBe('nxdomain');
        expect((await client.query(`_nope._tcp.${FQDN('kafka-headless')}`, 'SRV')).status).toBe('nxdomain');
        expect((await client.query(FQDN('kafka-headless'), 'AAAA')).status).toBe('nodata');
      } finally {
        client.close();
      }
      await same({ name: FQDN('gone'), port: 'kafka' }, 0);
      await same({ name: FQDN('kafka-headless'), family: 6 }, 0);
      return 'statuses and [] as directly';
    });
    check('queries per poll, steady', async () => {
      const perPoll: string[] = [];
      for (const [service, port] of [
        ['kafka-headless', 'kafka'],
        ['big', 'gossip'],
      ] as const) {
        const query = toPeerQuery({ name: FQDN(service), port, nameservers: [server.nameserver], search: [] });
        try {
          const poller = new Poller(query);
          await poller.poll();
          const steady = await poller.poll();
          expect(steady.kind).toBe('records');
          // SRV plus the service's A and AAAA sets at most, whatever the Additional section held.
          expect(steady.queries).toBeLessThanOrEqual(3);
          perPoll.push(`${service} ${steady.queries}`);
        } finally {
          query.client.close();
        }
      }
      return perPoll.join(', ');
    });

    if (kind.kind !== 'cache') return;

    // A watcher through the cache while the pods change in BIND behind it. Each change must
    // bring exactly the one event it means, however the cache's entries expire; the watcher
    // then keeps polling for two TTLs and a poll more, and nothing else may come.
    describe('a watcher through the cache', () => {
      let watcher: PeerWatcher;
      const events: string[] = [];
      const peerEvents = () => events.filter((event) => !event.startsWith('error'));

      beforeAll(async () => {
        watcher = watchPeers({
          name: `${APP}.`,
          port: 'http',
          nameservers: [server.nameserver],
          search: [],
          timeout: 500,
          attempts: 2,
          minInterval: 500,
          maxInterval: 4000,
        });
        watcher.on('peer-joined', (peer) => events.push(`joined ${peer.name} ${peer.address}`));
        watcher.on('peer-left', (peer, reason) => events.push(`left ${peer.name} ${reason}`));
        watcher.on('peer-updated', (peer, previous) =>
          events.push(`updated ${peer.name} ${previous.address}->${peer.address}`),
        );
        watcher.on('error', (error) => events.push(`error ${error.code}`));
        await watcher.ready();
        events.length = 0;
      });

      afterAll(async () => {
        await watcher?.close();
      });

      /** Makes a change, waits for its event, then for quiet: the events seen, and the time to the first. */
      async function change(commands: string[], expected: string[]): Promise<string> {
        events.length = 0;
        const started = performance.now();
        await bind.update('cluster.local', commands);
        let seenAt = 0;
        await untilPolled(
          watcher,
          () => {
            if (seenAt === 0 && peerEvents().length > 0) seenAt = performance.now();
            return peerEvents().length >= expected.length;
          },
          20_000,
          expected.join(', '),
        );
        // Quiet: every cache entry the change touched has expired since (twice the longest
        // TTL), and two polls more have asked the cache again.
        const quietAt = performance.now() + 2 * POD_TTL * 1000;
        await untilPolled(watcher, () => performance.now() >= quietAt, 15_000, 'the cache entries to expire');
        const { queries, polls } = watcher.stats;
        const quietUntil = watcher.stats.successes + 2;
        await untilPolled(watcher, () => watcher.stats.successes >= quietUntil, 15_000, 'two more polls');
        expect(peerEvents(), `events ${JSON.stringify(peerEvents())}`).toEqual(expected);
        const perPoll = (watcher.stats.queries - queries) / (watcher.stats.polls - polls);
        return `event after ${Math.round(seenAt - started)} ms; then queries per poll: ${perPoll}`;
      }

      check('watch: starts with the three pods', async () => {
        expect(watcher.peers().map((peer) => peer.address)).toEqual(['10.50.0.1', '10.50.0.2', '10.50.0.3']);
        return `first poll: ${watcher.stats.queries} queries`;
      });

      check(
        'watch: scale-up',
        () =>
          change(
            [
              `update add app-3.${APP}. ${POD_TTL} A 10.50.0.4`,
              `update add ${APP}. ${APP_TTL} A 10.50.0.4`,
              `update add _http._tcp.${APP}. ${APP_TTL} SRV 0 33 8080 app-3.${APP}.`,
            ],
            [`joined app-3.${APP} 10.50.0.4`],
          ),
        WATCH_STEP_MS,
      );

      check(
        'watch: a pod restarted with a new IP',
        async () => {
          // The cache holds the pod's old record, fetched now if it had expired.
          const client = new DnsClient({ nameservers: [server.nameserver], search: [], timeout: 1000, attempts: 2 });
          await client.query(`app-1.${APP}`, 'A').finally(() => client.close());
          return change(
            [
              `update delete app-1.${APP}. A`,
              `update add app-1.${APP}. ${POD_TTL} A 10.50.1.2`,
              `update delete ${APP}. A 10.50.0.2`,
              `update add ${APP}. ${APP_TTL} A 10.50.1.2`,
            ],
            [`updated app-1.${APP} 10.50.0.2->10.50.1.2`],
          );
        },
        WATCH_STEP_MS,
      );

      check(
        'watch: scale-down',
        () =>
          change(
            [
              `update delete _http._tcp.${APP}. SRV 0 33 8080 app-3.${APP}.`,
              `update delete ${APP}. A 10.50.0.4`,
              `update delete app-3.${APP}.`,
            ],
            [`left app-3.${APP} absent`],
          ),
        WATCH_STEP_MS,
      );

      check(
        'watch: upstream outage',
        async () => {
          events.length = 0;
          const peers = watcher.peers();
          await bind.stop();
          // Until the cache's entries have expired and it fails the polls (SERVFAIL or silence).
          const failures = watcher.stats.failures;
          await untilPolled(watcher, () => watcher.stats.failures >= failures + 3, 30_000, 'three failed polls');
          expect(watcher.peers()).toEqual(peers);
          await bind.start();
          const started = performance.now();
          await untilPolled(watcher, () => watcher.stats.consecutiveFailures === 0, 60_000, 'a successful poll');
          const recovered = Math.round(performance.now() - started);
          expect(peerEvents()).toEqual([]);
          expect(watcher.peers()).toEqual(peers);
          const codes = [...new Set(events.map((event) => event.slice('error '.length)))].join('/');
          return `membership kept through ${codes}; first good poll ${recovered} ms after BIND was back`;
        },
        120_000,
      );
    });
  });
}
