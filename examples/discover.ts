// Find a service's peers once: SRV mode, with names, ordinals and ports.
// Run: npx tsx examples/discover.ts (it starts its own embedded cluster DNS).
import { resolvePeers } from 'headless-peers';
import { createClusterDns } from 'headless-peers/testing';

const dns = await createClusterDns();
for (let i = 0; i < 3; i++) {
  dns.addPod('kafka-headless', { name: `kafka-${i}`, ip: `10.244.0.${10 + i}`, ports: { kafka: 9092 } });
}

// In a pod you would write just { name: 'kafka-headless', port: 'kafka' }: the nameserver
// and search list come from /etc/resolv.conf.
const peers = await resolvePeers({
  name: 'kafka-headless.default.svc.cluster.local',
  port: 'kafka',
  nameservers: [dns.nameserver],
});
for (const peer of peers) {
  console.log(`${peer.name} ordinal=${peer.ordinal} ${peer.address}:${peer.port}`);
}
await dns.close();
