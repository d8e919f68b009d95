// One node of a small replicated key-value store: one process per pod, found through DNS.
// A write is applied here, then fanned out to every healthy peer (pool.each); a node that
// starts joins the cluster (bootstrap) and catches up from snapshots.
// Run by scenario.ts: node --import tsx node.ts <name> <ip> <port> <nameserver> <min>
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { bootstrap, createPeerPool, type Peer, type PeerPool, watchPeers } from 'headless-peers';

const [name = 'kv-0', ip = '127.0.1.1', port = '8080', nameserver = '127.0.0.1:53', min = '3'] = process.argv.slice(2);
const SERVICE = 'kv-headless.default.svc.cluster.local.';

/** A value and its version: the highest (version, writer) wins everywhere, whatever the order. */
interface Entry {
  value: string;
  version: number;
  writer: string;
}
const store = new Map<string, Entry>();
let clock = 0;
let cluster: string | null = null;
// Made once this node is in the cluster; until then it takes no client writes.
let pool: PeerPool<{ base: string }> | undefined;
const events: { at: number; event: string; peer: string; address: string }[] = [];

function merge(key: string, entry: Entry): void {
  const mine = store.get(key);
  clock = Math.max(clock, entry.version);
  if (
    mine === undefined ||
    entry.version > mine.version ||
    (entry.version === mine.version && entry.writer > mine.writer)
  ) {
    store.set(key, entry);
  }
}

const url = (peer: Peer, path: string) => `http://${peer.address}:${peer.port}${path}`;

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
}

/** Pulls a peer's whole store and merges it. */
async function catchUp(base: string): Promise<void> {
  const response = await fetch(`${base}/kv`, { signal: AbortSignal.timeout(2000) });
  for (const [key, entry] of Object.entries((await response.json()) as Record<string, Entry>)) merge(key, entry);
}

const server = createServer(async (req, res) => {
  const path = req.url ?? '/';
  try {
    if (req.method === 'GET' && path === '/status') {
      res.end(JSON.stringify({ name, cluster, keys: store.size }));
    } else if (req.method === 'GET' && path === '/kv') {
      res.end(JSON.stringify(Object.fromEntries(store)));
    } else if (req.method === 'GET' && path === '/events') {
      res.end(JSON.stringify(events));
    } else if (req.method === 'PUT' && path.startsWith('/kv/') && pool !== undefined) {
      // A client's write: here first (so a snapshot taken from now on holds it), then everyone.
      const key = decodeURIComponent(path.slice(4));
      const entry: Entry = { value: await body(req), version: ++clock, writer: name };
      merge(key, entry);
      const results = await pool.each(async (lease) => {
        // A member held by leaveAfter is missing from DNS (restarting): it catches up on return.
        if (lease.peer.absentSince !== undefined) return 'skipped';
        const sent = await fetch(url(lease.peer, '/replicate'), {
          method: 'PUT',
          body: JSON.stringify({ key, entry }),
          signal: AbortSignal.timeout(2000),
        });
        if (!sent.ok) throw new Error(`replicate: ${sent.status}`);
        return 'acked';
      });
      const count = (what: string) => results.filter((r) => r.status === 'fulfilled' && r.value === what).length;
      res.end(JSON.stringify({ version: entry.version, acked: count('acked'), skipped: count('skipped') }));
    } else if (req.method === 'PUT' && path === '/replicate') {
      const { key, entry } = JSON.parse(await body(req)) as { key: string; entry: Entry };
      merge(key, entry);
      res.end('{}');
    } else if (req.method === 'POST' && path === '/hello') {
      // A peer now sends us its writes: what it had before is in its snapshot.
      await catchUp(`http://${(JSON.parse(await body(req)) as { from: string }).from}`);
      res.end('{}');
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  } catch (err) {
    res.statusCode = 500;
    res.end(JSON.stringify({ error: String(err) }));
  }
});
server.listen(Number(port), ip);
await once(server, 'listening');

// Forming or joining: one watcher that includes this pod (self), for bootstrap() only.
const discovery = watchPeers({ name: SERVICE, port: 'http', nameservers: [nameserver], self: { name, address: ip } });
const plan = await bootstrap({
  watcher: discovery,
  min: Number(min),
  stableFor: 1000,
  probeTimeout: 500,
  probe: async (peer, signal) =>
    ((await (await fetch(url(peer, '/status'), { signal })).json()) as { cluster: string | null }).cluster !== null,
});
if (plan.action === 'join') {
  const seed = plan.seeds[0] as Peer;
  cluster = ((await (await fetch(url(seed, '/status'))).json()) as { cluster: string }).cluster;
  await catchUp(`http://${seed.address}:${seed.port}`);
} else {
  cluster = `${name}@${Date.now()}`;
}
await discovery.close();

// The members, without this pod; a restart within leaveAfter is one member with a new address.
const members = watchPeers({
  name: SERVICE,
  port: 'http',
  nameservers: [nameserver],
  self: { name, address: ip },
  excludeSelf: true,
  leaveAfter: 8000, // longer than a pod takes to restart
});
const remember = (event: string) => (peer: Peer) => {
  events.push({ at: Date.now(), event, peer: peer.name ?? peer.id, address: peer.address });
};
members.on('peer-joined', remember('peer-joined'));
members.on('peer-left', remember('peer-left'));
members.on('peer-updated', remember('peer-updated'));
members.on('peer-missing', remember('peer-missing'));
members.on('peer-returned', remember('peer-returned'));
pool = createPeerPool<{ base: string }>({
  watcher: members,
  connect: async (peer, signal) => {
    await fetch(url(peer, '/status'), { signal });
    return { base: `http://${peer.address}:${peer.port}` };
  },
  destroy: () => {},
  check: async (conn, signal) => (await fetch(`${conn.base}/status`, { signal })).ok,
  checkInterval: 1000,
  reconnectDelay: 100,
});
// From now on this node's writes reach the peer: it pulls what came before.
pool.on('healthy', (peer) => {
  fetch(url(peer, '/hello'), { method: 'POST', body: JSON.stringify({ from: `${ip}:${port}` }) }).catch(() => {});
});
await members.ready();
console.log(JSON.stringify({ name, action: plan.action, cluster, keys: store.size }));
process.once('SIGTERM', () => {
  void pool
    ?.close()
    .then(() => members.close())
    .then(() => server.close());
});
