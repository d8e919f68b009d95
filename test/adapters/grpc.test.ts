import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import grpc114 from '@grpc/grpc-js';
import grpc110 from 'grpc-js-1.10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHeadlessTarget, registerHeadlessResolver } from '../../src/adapters/grpc.js';
import { createClusterDns } from '../../src/testing/index.js';
import { type BindServer, startBind } from '../support/bind.js';
import { type EchoServer, echoClient, startEchoServer } from '../support/grpc-echo.js';
import { requireNamed, skipIntegration } from '../support/named-required.js';

const SERVICE = 'echo.default.svc.cluster.local';
const INTERVAL = 200;

/** Where the pods' records are: the embedded cluster DNS or BIND 9. */
interface Records {
  nameserver: string;
  add(name: string, server: EchoServer): Promise<void>;
  remove(name: string, server: EchoServer): Promise<void>;
  outage(on: boolean): Promise<void>;
  close(): Promise<void>;
}

async function embedded(): Promise<Records> {
  const dns = await createClusterDns({ ttl: 1 });
  return {
    nameserver: dns.nameserver,
    add: async (name, server) => dns.addPod('echo', { name, ip: server.host, ports: { grpc: server.port } }),
    remove: async (name) => void dns.removePod('echo', name),
    outage: async (on) => dns.setFailure(on ? 'servfail' : null),
    close: () => dns.close(),
  };
}

async function bind(): Promise<Records> {
  const server: BindServer = await startBind(requireNamed(), [{ origin: 'cluster.local', records: [], ttl: 1 }]);
  const records = (name: string, pod: EchoServer) => [
    `${name}.${SERVICE}. 1 A ${pod.host}`,
    `${SERVICE}. 1 A ${pod.host}`,
    `_grpc._tcp.${SERVICE}. 1 SRV 0 25 ${pod.port} ${name}.${SERVICE}.`,
  ];
  return {
    nameserver: server.nameserver,
    add: (name, pod) =>
      server.update(
        'cluster.local',
        records(name, pod).map((r) => `update add ${r}`),
      ),
    remove: (name, pod) =>
      server.update(
        'cluster.local',
        records(name, pod).map((r) => `update delete ${r.replace(' 1 ', ' ')}`),
      ),
    outage: (on) => (on ? server.stop() : server.start()),
    close: () => server.close(),
  };
}

/** Polls of `name` as the watchers publish them, counted by outcome. */
function countPolls(name: string): { all: number; failures: number; stop(): void } {
  const counts = { all: 0, failures: 0, stop: () => unsubscribe('headless-peers:poll', onPoll) };
  const onPoll = (message: unknown) => {
    const poll = message as { name: string; outcome: string };
    if (!poll.name.startsWith(name)) return;
    counts.all++;
    if (poll.outcome === 'failure') counts.failures++;
  };
  subscribe('headless-peers:poll', onPoll);
  return counts;
}

/** Waits until `done()` holds, checking every 10 ms; fails after 10 s. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function activeUdpSockets(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'UDPWrap').length;
}

const findings: string[] = [];

afterAll(() => {
  console.info(findings.join('\n'));
});

// The newest and the oldest grpc-js of the peer range; their listener forms differ.
for (const [version, grpc] of [
  ['1.14', grpc114],
  ['1.10', grpc110 as unknown as typeof grpc114],
] as const) {
  describe(`the headless resolver on grpc-js ${version}`, () => {
    beforeAll(() => {
      registerHeadlessResolver({
        grpc,
        respectTtl: false,
        interval: INTERVAL,
        minInterval: 100,
        timeout: 300,
        attempts: 1,
      });
    });

    for (const [kind, open] of [
      ['the embedded cluster DNS', embedded],
      ['BIND 9', bind],
    ] as const) {
      describe.skipIf(kind === 'BIND 9' && skipIntegration)(`behind ${kind}`, () => {
        let records: Records;
        const servers: EchoServer[] = [];
        // biome-ignore lint/suspicious/noDuplicateTestHooks: one hook for each describe the loop makes
        beforeAll(async () => {
          records = await open();
        });
        afterAll(async () => {
          await Promise.all(servers.map((server) => server.shutdown()));
          await records?.close();
        });

        it('spreads calls over every pod; a pod added gets calls at the next poll; a pod removed before it stops gets none, and no call fails; a DNS outage changes nothing', async () => {
          for (let i = 0; i < 3; i++) {
            servers.push(await startEchoServer(grpc, `127.0.7.${i + 1}`));
            await records.add(`echo-${i}`, servers[i] as EchoServer);
          }
          const sockets = activeUdpSockets();
          const polls = countPolls(SERVICE);
          const client = echoClient(grpc, `headless://${records.nameserver}/${SERVICE}.:grpc`);
          // Calls one after another for the whole test, each counted by the pod that took it.
          const taken = new Map<string, number>();
          const failed: unknown[] = [];
          let running = true;
          const loop = (async () => {
            while (running) {
              try {
                const from = await client.who();
                taken.set(from, (taken.get(from) ?? 0) + 1);
              } catch (err) {
                failed.push(err);
              }
              await new Promise((resolve) => setTimeout(resolve, 2));
            }
          })();
          const total = () => [...taken.values()].reduce((a, b) => a + b, 0);
          try {
            await until(() => total() >= 60, '60 calls');
            taken.clear();
            await until(() => total() >= 90, '90 more calls');
            const spread = [1, 2, 3].map((i) => taken.get(`127.0.7.${i}`) ?? 0);
            for (const calls of spread) expect(calls).toBeGreaterThanOrEqual(20);

            // Scale-up: the new pod is called from the first poll that starts after its record.
            const fourth = await startEchoServer(grpc, '127.0.7.4');
            servers.push(fourth);
            await records.add('echo-3', fourth);
            const addedAt = polls.all;
            await until(() => fourth.calls > 0, 'a call to the new pod');
            const joinPolls = polls.all - addedAt;
            expect(joinPolls).toBeLessThanOrEqual(2);

            // Graceful scale-down: out of DNS first, then its server stops.
            const second = servers[1] as EchoServer;
            await records.remove('echo-1', second);
            const removedAt = polls.all;
            await until(() => polls.all >= removedAt + 2, 'two polls after the removal');
            const callsThen = second.calls;
            const before = total();
            await until(() => total() >= before + 60, '60 more calls');
            expect(second.calls).toBe(callsThen);
            await second.shutdown();

            // A DNS outage: polls fail, the calls go on to the same pods.
            await records.outage(true);
            const failuresBefore = polls.failures;
            await until(() => polls.failures >= failuresBefore + 3, 'three failed polls');
            taken.clear();
            await until(() => total() >= 60, '60 calls during the outage');
            expect([...taken.keys()].sort()).toEqual(['127.0.7.1', '127.0.7.3', '127.0.7.4']);
            await records.outage(false);
            expect(failed).toEqual([]);
            findings.push(
              `grpc-js ${version}, ${kind}: ${spread.join('/')} of 90 calls over 3 pods; new pod called ${joinPolls} poll(s) after its record; 0 failed calls`,
            );
          } finally {
            running = false;
            await loop;
            client.close();
            polls.stop();
          }
          // The channel's watcher closed with it: its sockets are gone.
          await until(() => activeUdpSockets() <= sockets, 'the watcher’s sockets to close');
        }, 60_000);
      });
    }
  });
}

describe('re-resolution', () => {
  it('polls when gRPC asks (a pod died before DNS knew), at most once per minRefreshInterval', async () => {
    const dns = await createClusterDns({ ttl: 3600 });
    // Polls on the schedule an hour apart: every poll seen here is gRPC asking.
    registerHeadlessResolver({ grpc: grpc114, respectTtl: false, interval: 3_600_000, minRefreshInterval: 500 });
    const servers = [await startEchoServer(grpc114, '127.0.7.11'), await startEchoServer(grpc114, '127.0.7.12')];
    for (const [i, server] of servers.entries()) {
      dns.addPod('echo', { name: `echo-${i}`, ip: server.host, ports: { grpc: server.port } });
    }
    const polls = countPolls(SERVICE);
    const client = echoClient(grpc114, `headless://${dns.nameserver}/${SERVICE}.:grpc`);
    try {
      for (let i = 0; i < 10; i++) await client.who();
      expect(polls.all).toBe(1);
      servers[1]?.kill();
      const killed = performance.now();
      await until(() => polls.all >= 2, 'a poll gRPC asked for');
      // Keep calling for 2 s: gRPC goes on asking while the dead pod is in the list.
      while (performance.now() - killed < 2000) await client.who().catch(() => {});
      const refreshes = polls.all - 1;
      expect(refreshes).toBeGreaterThanOrEqual(1);
      expect(refreshes).toBeLessThanOrEqual(Math.ceil((performance.now() - killed) / 500) + 1);
      findings.push(
        `re-resolution: ${refreshes} poll(s) asked by gRPC in 2 s after a pod died (minRefreshInterval 500 ms)`,
      );
    } finally {
      client.close();
      polls.stop();
      await servers[0]?.shutdown();
      await dns.close();
    }
  });
});

describe('headless targets', () => {
  it('parse like the dns resolver’s: [//nameserver/]service[:port name or number]', () => {
    expect(parseHeadlessTarget({ authority: '', path: 'kafka-headless:kafka' })).toEqual({
      nameserver: undefined,
      service: 'kafka-headless',
      port: 'kafka',
    });
    expect(parseHeadlessTarget({ authority: '127.0.0.1:5353', path: 'web.default.svc.cluster.local:8080' })).toEqual({
      nameserver: '127.0.0.1:5353',
      service: 'web.default.svc.cluster.local',
      port: 8080,
    });
    expect(parseHeadlessTarget({ path: 'web' }, 50051)).toEqual({ nameserver: undefined, service: 'web', port: 50051 });
    expect(() => parseHeadlessTarget({ path: '' })).toThrow(/^target: "headless:" has no service name/);
    expect(() => parseHeadlessTarget({ path: 'web:' })).toThrow(/has a bad port ""/);
    expect(() => parseHeadlessTarget({ path: 'web:99999' })).toThrow(/^target port: /);
    expect(() => parseHeadlessTarget({ path: 'web:_grpc' })).toThrow(/has a bad port "_grpc"/);
  });

  it('refuse bad options before registering anything', () => {
    expect(() => registerHeadlessResolver({ grpc: {} as typeof grpc114 })).toThrow(
      /^grpc: expected the @grpc\/grpc-js module/,
    );
    expect(() => registerHeadlessResolver({ grpc: grpc114, leaveAfter: -1 })).toThrow(/^leaveAfter: /);
    expect(() => registerHeadlessResolver({ grpc: grpc114, defaultPort: 0 })).toThrow(/^defaultPort: /);
    expect(() => registerHeadlessResolver({ grpc: grpc114, client: {} } as never)).toThrow(
      /^client: not an option here/,
    );
  });

  it('make a channel to an unparsable target throw at once, naming the target', () => {
    registerHeadlessResolver({ grpc: grpc114 });
    expect(() => echoClient(grpc114, 'headless:///:grpc')).toThrow(
      /^target: "headless::grpc" has no service name \(headless:\[\/\/nameserver\/\]<service>\[:<port>\]\)$/,
    );
  });
});
