// Five pods started at once form one cluster, not five: each pod is its own process on its own
// loopback address (127.0.1.x), with an HTTP endpoint that says which cluster it belongs to,
// and finds the others through the embedded cluster DNS, where their records appear at random
// moments. bootstrap() lets the lowest form and the others join it.
// Run: npx tsx examples/cluster-bootstrap.ts
// One pod alone: npx tsx examples/cluster-bootstrap.ts pod <name> <ip> <port> <nameserver> [min] [stableFor]
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { bootstrap, type Peer, watchPeers } from 'headless-peers';
import { createClusterDns } from 'headless-peers/testing';

const SERVICE = 'cluster-headless';
const PODS = 5;

if (process.argv[2] === 'pod') {
  const [
    name = 'node-0',
    ip = '127.0.1.1',
    port = '7946',
    nameserver = '127.0.0.1:53',
    min = `${PODS}`,
    stableFor = '1000',
  ] = process.argv.slice(3);
  await runPod(name, ip, Number(port), nameserver, Number(min), Number(stableFor));
} else {
  await demo();
}

/** One member: serves `GET /cluster`, then bootstraps and prints its decision as one JSON line. */
async function runPod(
  name: string,
  ip: string,
  port: number,
  nameserver: string,
  min: number,
  stableFor: number,
): Promise<void> {
  let cluster: string | null = null;
  const server = createServer((_req, res) => res.end(JSON.stringify({ cluster })));
  server.listen(port, ip);
  await once(server, 'listening');
  const started = Date.now();
  const watcher = watchPeers({
    name: `${SERVICE}.default.svc.cluster.local.`,
    port: 'gossip',
    nameservers: [nameserver],
    self: { name, address: ip }, // in Kubernetes, POD_NAME and POD_IP tell it
    minInterval: 250, // the demo's records live 1 s
  });
  // What a peer's endpoint said, so that joining needs no second request.
  const seen = new Map<string, string>();
  const probe = async (peer: Peer, signal: AbortSignal) => {
    const response = await fetch(`http://${peer.address}:${peer.port}/cluster`, { signal });
    const body = (await response.json()) as { cluster: string | null };
    if (body.cluster !== null) seen.set(peer.address, body.cluster);
    return body.cluster !== null;
  };
  const plan = await bootstrap({ watcher, probe, min, stableFor, probeTimeout: 500 });
  cluster = plan.action === 'form' ? `${name}@${started}` : (seen.get(plan.seeds[0]?.address ?? '') ?? null);
  const seeds = plan.action === 'join' ? plan.seeds.map((peer) => peer.name?.split('.')[0]).join(' ') : '';
  console.log(JSON.stringify({ name, action: plan.action, cluster, seeds, ms: Date.now() - started }));
  await watcher.close();
  // Serves its status until stopped, for pods that start later.
  process.once('SIGTERM', () => server.close());
}

async function demo(): Promise<void> {
  const dns = await createClusterDns({ ttl: 1 });
  const port = 17946;
  const pods: ChildProcess[] = [];
  const decisions: Record<string, unknown>[] = [];
  const done = Array.from({ length: PODS }, (_, i) => {
    const name = `node-${i}`;
    const ip = `127.0.1.${i + 1}`;
    const pod = spawn(
      process.execPath,
      [...process.execArgv, process.argv[1] ?? '', 'pod', name, ip, `${port}`, dns.nameserver],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    pods.push(pod);
    // Its record appears at a random moment of the next second, as pods get ready.
    setTimeout(() => dns.addPod(SERVICE, { name, ip, ports: { gossip: port } }), Math.random() * 1000);
    const lines = createInterface({ input: pod.stdout ?? process.stdin });
    return new Promise<void>((resolve) => lines.once('line', (line) => resolve(void decisions.push(JSON.parse(line)))));
  });
  await Promise.all(done);
  console.table(decisions.sort((a, b) => String(a.name).localeCompare(String(b.name))));
  const clusters = new Set(decisions.map((decision) => decision.cluster));
  console.log(clusters.size === 1 ? `one cluster: ${[...clusters][0]}` : `SPLIT BRAIN: ${[...clusters].join(', ')}`);
  for (const pod of pods) pod.kill('SIGTERM');
  await Promise.all(pods.map((pod) => (pod.exitCode === null ? once(pod, 'exit') : undefined)));
  await dns.close();
  if (clusters.size !== 1) process.exitCode = 1;
}
