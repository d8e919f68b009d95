// The replicated key-value store of node.ts, run as a cluster on this machine: the embedded
// cluster DNS as a process of its own (`headless-peers dns`), and one node process per pod on
// 127.0.x.y. Three pods form a cluster and take 100 writes; a fourth catches up while writes
// go on; a pod is killed and comes back with a new IP; one leaves for good. After each step
// every pod holds the same data.
// Run: npx tsx examples/replicated-kv/scenario.ts
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
// In a project of your own: npx headless-peers dns --json --ttl 2
const CLI = here('../../src/cli/main.ts');
const PORT = 18080;
const SERVICE = 'kv-headless';

/** What the scenario measured, in ms: from a change in DNS to the event on the other pods. */
export interface Timings {
  /** A record added to `peer-joined`. */
  joined: number[];
  /** A restarted pod's new IP to `peer-updated`. */
  updated: number[];
  /** A record removed to `peer-left` (leaveAfter 8 s, TTL 2 s). */
  left: number[];
}

interface Pod {
  name: string;
  ip: string;
  process: ChildProcess;
}

function start(args: string[]): { process: ChildProcess; line: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = once(createInterface({ input: child.stdout ?? process.stdin }), 'line').then(([text]) => String(text));
  return { process: child, line };
}

/** Runs the scenario; `net` is the 127.x.y prefix of the pods' addresses. */
export async function runScenario(log: (line: string) => void, net = '127.0.4'): Promise<Timings> {
  const dns = start([CLI, 'dns', '--json', '--ttl', '2']);
  const { nameserver, control } = JSON.parse(await dns.line) as { nameserver: string; control: string };
  const pods = new Map<string, Pod>();
  const timings: Timings = { joined: [], updated: [], left: [] };
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${control}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  const get = async <T>(pod: Pod, path: string): Promise<T> =>
    (await (await fetch(`http://${pod.ip}:${PORT}${path}`)).json()) as T;

  /** Starts a pod and publishes its record; resolves with when the record was added. */
  async function startPod(name: string, ip: string, min: number): Promise<number> {
    const { process: child, line } = start([here('./node.ts'), name, ip, `${PORT}`, nameserver, `${min}`]);
    pods.set(name, { name, ip, process: child });
    const at = Date.now();
    await call('POST', '/pods', { service: SERVICE, name, ip, ports: { http: PORT } });
    const ready = JSON.parse(await line) as { action: string; cluster: string };
    log(`${name} on ${ip}: ${ready.action === 'form' ? 'formed' : 'joined'} ${ready.cluster}`);
    return at;
  }

  /** Waits until every other pod reports `event` for `name` after `at`, and records how long each took. */
  async function eventAfter(at: number, event: string, name: string, into: number[]): Promise<void> {
    for (const pod of pods.values()) {
      if (pod.name === name) continue;
      for (let tries = 0; ; tries++) {
        const seen = (await get<{ at: number; event: string; peer: string }[]>(pod, '/events')).find(
          (e) => e.at >= at && e.event === event && e.peer.startsWith(`${name}.`),
        );
        if (seen !== undefined) {
          into.push(seen.at - at);
          break;
        }
        if (tries > 150) throw new Error(`${pod.name}: no ${event} for ${name} within 15 s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  let written = 0;
  /** `count` writes, or writes until `until` says stop, spread over the pods running now. */
  async function write(count: number, until?: () => boolean): Promise<void> {
    const live = [...pods.values()];
    for (let i = 0; until === undefined ? i < count : !until(); i++, written++) {
      const pod = live[i % live.length] as Pod;
      const response = await fetch(`http://${pod.ip}:${PORT}/kv/key-${written % 37}`, {
        method: 'PUT',
        body: `v${written}`,
      });
      if (!response.ok) throw new Error(`write to ${pod.name}: ${response.status}`);
    }
  }

  /** Every pod holds the same data (waiting a little for the last catch-up). */
  async function agree(step: string): Promise<void> {
    for (let tries = 0; ; tries++) {
      const stores = await Promise.all([...pods.values()].map((pod) => get<Record<string, unknown>>(pod, '/kv')));
      // Every key with its value, version and writer, in one order.
      const text = (store: Record<string, unknown>) =>
        JSON.stringify(
          Object.keys(store)
            .sort()
            .map((key) => [key, store[key]]),
        );
      const distinct = new Set(stores.map(text));
      if (distinct.size === 1) {
        log(`${step}: all ${pods.size} pods agree on ${Object.keys(stores[0] ?? {}).length} keys`);
        return;
      }
      if (tries > 50) {
        const names = [...pods.keys()];
        const keys = new Set(stores.flatMap((store) => Object.keys(store)));
        const differing = [...keys].filter(
          (key) => new Set(stores.map((store) => JSON.stringify(store[key]))).size > 1,
        );
        const first = differing[0] ?? '';
        const views = names.map((name, i) => `${name} ${JSON.stringify(stores[i]?.[first])}`).join('; ');
        throw new Error(`${step}: the pods disagree on ${differing.length} keys, ${first}: ${views}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function kill(name: string): Promise<void> {
    const pod = pods.get(name);
    pods.delete(name);
    pod?.process.kill('SIGKILL');
    if (pod !== undefined && pod.process.exitCode === null) await once(pod.process, 'exit');
  }

  try {
    await Promise.all([0, 1, 2].map((i) => startPod(`kv-${i}`, `${net}.${i + 1}`, 3)));
    await write(100);
    await agree('3 pods, 100 writes');

    // A fourth pod starts while writes go on, until just after it took its snapshot and
    // before its peers have seen it (they need up to a TTL and a poll): writes it would miss,
    // but pulls when each of them says hello.
    let caughtUp = false;
    const before = written;
    const writing = write(0, () => caughtUp);
    const added = await startPod('kv-3', `${net}.4`, 3);
    await write(20);
    caughtUp = true;
    await writing;
    await eventAfter(added, 'peer-joined', 'kv-3', timings.joined);
    await agree(`a 4th pod caught up while ${written - before} more writes came`);

    // kv-1 dies and its record goes; 3 s later the new pod is ready on a new IP. leaveAfter
    // (8 s) holds it meanwhile: the others see it missing (and skip it), then one update.
    await kill('kv-1');
    await call('DELETE', `/pods/${SERVICE}/kv-1`);
    const gone = Date.now();
    await write(30);
    await new Promise((resolve) => setTimeout(resolve, 3000 - (Date.now() - gone)));
    const restarted = Date.now();
    const { process: child, line } = start([here('./node.ts'), 'kv-1', `${net}.11`, `${PORT}`, nameserver, '3']);
    await call('POST', '/pods', { service: SERVICE, name: 'kv-1', ip: `${net}.11`, ports: { http: PORT } });
    const again = JSON.parse(await line) as { action: string; cluster: string };
    log(`kv-1 restarted on ${net}.11: ${again.action === 'form' ? 'formed' : 'joined'} ${again.cluster}`);
    pods.set('kv-1', { name: 'kv-1', ip: `${net}.11`, process: child });
    await eventAfter(restarted, 'peer-updated', 'kv-1', timings.updated);
    for (const pod of pods.values()) {
      if (pod.name === 'kv-1') continue;
      const seen = (await get<{ at: number; event: string; peer: string }[]>(pod, '/events'))
        .filter((e) => e.at >= gone && e.peer.startsWith('kv-1.'))
        .map((e) => e.event);
      if (seen.join(' ') !== 'peer-missing peer-updated peer-returned') {
        throw new Error(`${pod.name} saw kv-1's restart as ${seen.join(', ')}, not held by leaveAfter`);
      }
    }
    await write(20);
    await agree('kv-1 restarted with a new IP and 50 more writes');

    // kv-3 leaves for good: the others let it go after leaveAfter.
    await kill('kv-3');
    const removed = Date.now();
    await call('DELETE', `/pods/${SERVICE}/kv-3`);
    await eventAfter(removed, 'peer-left', 'kv-3', timings.left);
    await write(10);
    await agree('kv-3 left');
    return timings;
  } finally {
    for (const pod of pods.values()) pod.process.kill('SIGKILL');
    dns.process.kill('SIGTERM');
    await Promise.all(
      [...[...pods.values()].map((pod) => pod.process), dns.process]
        .filter((child) => child.exitCode === null && child.signalCode === null)
        .map((child) => once(child, 'exit')),
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const timings = await runScenario((line) => console.log(line));
  const range = (values: number[]) => `${Math.min(...values)}-${Math.max(...values)} ms`;
  console.log(
    `record added to peer-joined ${range(timings.joined)}; new IP to peer-updated ${range(timings.updated)}; ` +
      `record removed to peer-left ${range(timings.left)}`,
  );
}
