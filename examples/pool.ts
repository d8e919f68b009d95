// A health-aware pool of plain TCP clients, one connection per pod, following the service.
// Run: npx tsx examples/pool.ts (it starts its own servers and embedded cluster DNS).
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { createPeerPool, watchPeers } from 'headless-peers';
import { createClusterDns } from 'headless-peers/testing';

// Three "pods": loopback TCP servers answering "ping" with "pong from <name>".
const dns = await createClusterDns();
const servers = [];
for (let i = 0; i < 3; i++) {
  const server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.on('data', () => socket.write(`pong from echo-${i}\n`));
  });
  server.listen(0, `127.0.0.${30 + i}`);
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  dns.addPod('echo', { name: `echo-${i}`, ip: `127.0.0.${30 + i}`, ports: { echo: port } });
  servers.push(server);
}

// Ask one question on a connection: write a line, read a line.
function ask(socket: Socket, line: string, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      cleanup();
      resolve(chunk.toString().trim());
    };
    const onEnd = () => {
      cleanup();
      reject(new Error('connection closed'));
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('close', onEnd);
      signal?.removeEventListener('abort', onEnd);
    };
    socket.on('data', onData);
    socket.once('close', onEnd);
    signal?.addEventListener('abort', onEnd, { once: true });
    socket.write(`${line}\n`);
  });
}

const watcher = watchPeers({ name: 'echo.default.svc.cluster.local', port: 'echo', nameservers: [dns.nameserver] });
const pool = createPeerPool<Socket>({
  watcher,
  connect: (peer, signal) =>
    new Promise((resolve, reject) => {
      const socket = connect({ host: peer.address, port: peer.port ?? 0, signal });
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
    }),
  destroy: (socket) => socket.destroy(),
  check: async (socket, signal) => (await ask(socket, 'ping', signal)).startsWith('pong'),
  strategy: 'least-pending',
});
pool.on('connected', (peer) => console.log('connected to', peer.name));

for (let i = 0; i < 6; i++) {
  const lease = await pool.acquire({ signal: AbortSignal.timeout(2000) });
  try {
    console.log(await ask(lease.conn, 'ping'));
    pool.release(lease);
  } catch (err) {
    pool.release(lease, { failed: true }); // counts toward ejecting that peer
    throw err;
  }
}

await pool.close(); // destroys every connection
await watcher.close();
for (const server of servers) server.close();
await dns.close();
