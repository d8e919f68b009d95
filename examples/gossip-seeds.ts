// A gossip layer's seed list: every peer but this pod, held steady through pod restarts
// (leaveAfter) and DNS blips (a failed poll never empties the list).
// Run: npx tsx examples/gossip-seeds.ts
import { hostname } from 'node:os';
import { watchPeers } from 'headless-peers';
import { createClusterDns } from 'headless-peers/testing';

const dns = await createClusterDns();
// This pod is one of the members: excludeSelf leaves it out of its own seed list.
const self = hostname().split('.')[0]?.toLowerCase() ?? 'self';
dns.addPod('cluster', { name: self, ip: '10.244.1.1', ports: { gossip: 7946 } });
dns.addPod('cluster', { name: 'node-1', ip: '10.244.1.2', ports: { gossip: 7946 } });
dns.addPod('cluster', { name: 'node-2', ip: '10.244.1.3', ports: { gossip: 7946 } });

const watcher = watchPeers({
  name: 'cluster.default.svc.cluster.local',
  port: 'gossip',
  nameservers: [dns.nameserver],
  excludeSelf: true,
  leaveAfter: 15_000,
  confirmEmpty: 3,
});
watcher.on('error', (err) => console.warn('DNS poll failed; seeds kept:', err.code));

const seeds = (await watcher.ready()).map((peer) => `${peer.address}:${peer.port}`);
console.log('seeds:', seeds.join(', '));

dns.setFailure('servfail'); // a DNS outage...
await watcher.refresh().catch(() => {});
console.log(
  'seeds during the outage:',
  watcher
    .peers()
    .map((peer) => `${peer.address}:${peer.port}`)
    .join(', '),
);

await watcher.close();
await dns.close();
