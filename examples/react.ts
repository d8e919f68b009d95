// React to joins, leaves and updates as a service scales.
// Run: npx tsx examples/react.ts
import { watchPeers } from 'headless-peers';
import { createClusterDns } from 'headless-peers/testing';

const dns = await createClusterDns();
const addPod = (i: number, ip = `10.244.0.${10 + i}`) =>
  dns.addPod('web', { name: `web-${i}`, ip, ports: { http: 8080 } });
addPod(0);
addPod(1);

const watcher = watchPeers({
  name: 'web.default.svc.cluster.local',
  port: 'http',
  nameservers: [dns.nameserver],
  respectTtl: false,
  interval: 100, // short for the example; in a cluster the record TTL is followed
});
watcher.on('peer-joined', (peer) => console.log('joined ', peer.name, peer.address));
watcher.on('peer-left', (peer, reason) => console.log('left   ', peer.name, reason));
// Scaling changes CoreDNS's SRV weight (floor(100 / pods)) of every pod: that is an update too.
watcher.on('peer-updated', (peer, previous) =>
  console.log(
    'updated',
    peer.name,
    previous.address === peer.address
      ? `weight ${previous.weight} -> ${peer.weight}`
      : `${previous.address} -> ${peer.address}`,
  ),
);

await watcher.ready();
addPod(2); // scale up
await nextChange();
addPod(0, '10.244.9.9'); // web-0 restarts with a new IP
await nextChange();
dns.removePod('web', 'web-1'); // scale down
await nextChange();
await watcher.close();
await dns.close();

function nextChange(): Promise<unknown> {
  return new Promise((resolve) => watcher.once('changed', resolve));
}
