import { setMaxListeners } from 'node:events';
import { bootstrap } from '../formation/bootstrap.js';
import { type ClusterDns, createClusterDns } from '../testing/index.js';
import type { Peer } from '../watch/peer.js';
import { follow } from '../watch/signals.js';
import { type PeerWatcher, watchPeers } from '../watch/watcher.js';
import { printEvents } from './events.js';
import { painter, peerTable, textTable } from './format.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Where the story is told. @default process.stdout */
  out?: NodeJS.WritableStream;
  /** One JSON object per line instead of text. @default false */
  json?: boolean;
  /** Ends the demo early (Ctrl-C). */
  signal?: AbortSignal;
}

const SERVICE = 'kafka-headless';
const NAME = `${SERVICE}.default.svc.cluster.local.`;
// Each step waits for the watcher to see it, but never longer than this.
const STEP_LIMIT = 5000;

/**
 * Plays a short story against the embedded cluster DNS: 3 pods, scale to 5, a pod restarts
 * with a new IP (its old record gone before the new one comes, as in Kubernetes), scale to 2,
 * a DNS outage during which nothing leaves, scale to 0, and five pods that start at once and
 * form one cluster. Prints each event as the watcher reports it. No cluster needed; ends by
 * itself in a few seconds.
 * Resolves with `true` when the story ran to its end, `false` when `signal` stopped it.
 */
export async function runDemo(options: DemoOptions = {}): Promise<boolean> {
  const out = options.out ?? process.stdout;
  const json = options.json ?? false;
  const paint = painter(out);
  const dns = await createClusterDns({ ttl: 1 });
  const pod = (ordinal: number, ip = `10.244.0.${10 + ordinal}`) =>
    dns.addPod(SERVICE, { name: `kafka-${ordinal}`, ip, ports: { kafka: 9092 } });
  const say = (text: string) =>
    out.write(
      json
        ? `${JSON.stringify({ time: new Date().toISOString(), event: 'step', text })}\n`
        : `\n${paint('bold', `== ${text}`)}\n`,
    );
  const table = (peers: readonly Peer[]) => {
    if (!json) out.write(peerTable(peers));
  };

  let watcher: PeerWatcher | undefined;
  try {
    for (let i = 0; i < 3; i++) pod(i);
    say(`embedded cluster DNS on ${dns.nameserver}: a StatefulSet "kafka" of 3 pods behind ${NAME.slice(0, -1)}`);
    watcher = watchPeers({
      name: NAME,
      port: 'kafka',
      nameservers: [dns.nameserver],
      respectTtl: false,
      interval: 200,
      minInterval: 100,
      maxInterval: 800,
      confirmEmpty: 2,
      // Longer than the demo's pod restart: a restart is then one update, not a leave and a join.
      leaveAfter: 1000,
      timeout: 500,
      attempts: 1,
      signal: options.signal,
    });
    printEvents(watcher, out, { json });
    const w = watcher;
    const until = (what: string, done: () => boolean) => waitFor(what, done, options.signal);

    await w.ready();
    table(w.peers());

    say('scale to 5 pods');
    pod(3);
    pod(4);
    await until('5 peers', () => w.peers().length === 5);
    table(w.peers());

    say(
      'kafka-1 restarts: its record goes with the old pod, and the new pod (a new IP) is published once ready. ' +
        'leaveAfter (1 s here) holds it meanwhile, so it is one update, same member, new address ' +
        '(with the default leaveAfter: 0, a leave and then a join)',
    );
    dns.removePod(SERVICE, 'kafka-1');
    await until('kafka-1 missing', () => w.peers().some((peer) => peer.absentSince !== undefined));
    pod(1, '10.244.3.77');
    await until('kafka-1 on its new IP', () => w.peers().some((peer) => peer.address === '10.244.3.77'));
    table(w.peers());

    say('scale to 2 pods');
    for (const ordinal of [4, 3, 2]) dns.removePod(SERVICE, `kafka-${ordinal}`);
    await until('2 peers', () => w.peers().length === 2);
    table(w.peers());

    say('DNS outage: cluster DNS answers SERVFAIL; errors are reported, nobody leaves');
    dns.setFailure('servfail');
    const failures = w.stats.failures;
    await until('3 failed polls', () => w.stats.failures >= failures + 3);
    table(w.peers());
    say('DNS is back: the first good answer matches what the watcher had, so no events');
    dns.setFailure(null);
    const successes = w.stats.successes;
    await until('a good poll', () => w.stats.successes > successes);

    say('scale to 0 pods: NXDOMAIN, and after 2 agreeing polls and leaveAfter everyone leaves (reason "empty")');
    for (const ordinal of [0, 1]) dns.removePod(SERVICE, `kafka-${ordinal}`);
    await until('0 peers', () => w.peers().length === 0);
    table(w.peers());
    say(`done: ${w.stats.polls} polls, ${w.stats.failures} failed, ${w.stats.queries} queries`);

    say(
      'a gossip layer: 5 pods start at once, their records appear at random moments of the next second; ' +
        'bootstrap() lets the lowest form a cluster and the others join it',
    );
    const decisions = await formCluster(dns, options.signal);
    if (json) for (const decision of decisions) out.write(`${JSON.stringify({ event: 'bootstrap', ...decision })}\n`);
    else out.write(decisionTable(decisions));
    const clusters = new Set(decisions.map((decision) => decision.cluster));
    say(
      clusters.size === 1 ? `one cluster, formed by ${[...clusters][0]}` : `split brain: ${[...clusters].join(', ')}`,
    );
    return true;
  } catch (err) {
    if (options.signal?.aborted) return false;
    throw err;
  } finally {
    await watcher?.close();
    await dns.close();
  }
}

/** What one pod of the formation step decided. */
interface Decision {
  pod: string;
  address: string;
  action: 'form' | 'join';
  /** The pod that formed the cluster it is in. */
  cluster: string;
  /** Ms from its start to its decision. */
  ms: number;
}

/**
 * Five pods, each a watcher that knows itself (`self`) and a bootstrap(): being in a cluster is
 * an entry in a map that the probes read (across processes it is a request to the pod; see
 * examples/cluster-bootstrap.ts).
 */
async function formCluster(dns: ClusterDns, stop: AbortSignal | undefined): Promise<Decision[]> {
  const service = 'gossip-headless';
  // One signal of its own for the ten watchers and bootstraps, which listen to it all at once.
  const { controller, unlink } = follow(stop);
  setMaxListeners(0, controller.signal);
  const { signal } = controller;
  const inCluster = new Map<string, string>();
  const watchers: PeerWatcher[] = [];
  const timers: NodeJS.Timeout[] = [];
  const started = performance.now();
  try {
    return await Promise.all(
      [0, 1, 2, 3, 4].map(async (ordinal) => {
        const pod = `node-${ordinal}`;
        const address = `10.244.9.${10 + ordinal}`;
        timers.push(
          setTimeout(
            () => dns.addPod(service, { name: pod, ip: address, ports: { gossip: 7946 } }),
            Math.random() * 1000,
          ),
        );
        const watcher = watchPeers({
          name: `${service}.default.svc.cluster.local.`,
          port: 'gossip',
          nameservers: [dns.nameserver],
          self: { name: pod, address },
          respectTtl: false,
          interval: 200,
          minInterval: 100,
          timeout: 500,
          attempts: 1,
          signal,
        });
        watchers.push(watcher);
        const plan = await bootstrap({
          watcher,
          min: 5,
          stableFor: 600,
          signal,
          probe: (peer) => inCluster.has(peer.address),
        });
        const cluster = plan.action === 'form' ? pod : (inCluster.get(plan.seeds[0]?.address ?? '') ?? 'unknown');
        inCluster.set(address, cluster);
        return { pod, address, action: plan.action, cluster, ms: Math.round(performance.now() - started) };
      }),
    );
  } finally {
    unlink();
    for (const timer of timers) clearTimeout(timer);
    await Promise.all(watchers.map((watcher) => watcher.close()));
  }
}

function decisionTable(decisions: readonly Decision[]): string {
  const rows = decisions.map((d) => [
    d.pod,
    d.address,
    d.action === 'form' ? 'formed a cluster' : `joined ${d.cluster}'s`,
    `${d.ms} ms`,
  ]);
  return textTable(['POD', 'ADDRESS', 'DECISION', 'AFTER'], rows);
}

/** Waits until `done()` holds after a poll; fails after STEP_LIMIT; gives up quietly on abort. */
function waitFor(what: string, done: () => boolean, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (signal?.aborted) finish(new Error('demo stopped'));
      else if (done()) finish(undefined);
    };
    const timer = setTimeout(() => finish(new Error(`demo: no ${what} within ${STEP_LIMIT} ms`)), STEP_LIMIT);
    const finish = (error: Error | undefined) => {
      clearTimeout(timer);
      clearInterval(poll);
      signal?.removeEventListener('abort', check);
      if (error) reject(error);
      else resolve();
    };
    // Poll outcomes that change nothing emit no event, so look every few milliseconds.
    const poll = setInterval(check, 20);
    signal?.addEventListener('abort', check, { once: true });
    check();
  });
}
