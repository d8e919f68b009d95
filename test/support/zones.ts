import type { ZoneSpec } from './bind.js';

/** `10.x.y.z` for the i-th pod of a block (i < 65536). */
export function ipv4(block: number, i: number): string {
  return `10.${block}.${Math.floor(i / 256)}.${i % 256}`;
}

/** The zone-file lines of a StatefulSet-like headless service: A, per-pod A, SRV per port. */
export function serviceRecords(
  service: string,
  pods: { host: string; ips: string[] }[],
  ports: Record<string, number>,
  namespace = 'default',
): string[] {
  const base = `${service}.${namespace}.svc`;
  const lines: string[] = [];
  const weight = Math.max(1, Math.floor(100 / pods.length));
  for (const pod of pods) {
    for (const ip of pod.ips) {
      const type = ip.includes(':') ? 'AAAA' : 'A';
      lines.push(`${base} IN ${type} ${ip}`, `${pod.host}.${base} IN ${type} ${ip}`);
    }
    for (const [name, port] of Object.entries(ports)) {
      lines.push(`_${name}._tcp.${base} IN SRV 0 ${weight} ${port} ${pod.host}.${base}.cluster.local.`);
    }
  }
  return lines;
}

/** The test cluster: every service the integration tests look up. */
export function clusterZones(): ZoneSpec[] {
  const records: string[] = [];
  const ptr: string[] = [];
  records.push(
    ...serviceRecords(
      'kafka-headless',
      [0, 1, 2].map((i) => ({ host: `kafka-${i}`, ips: [`10.244.1.${10 + i}`] })),
      { kafka: 9092, metrics: 9404 },
    ),
  );
  records.push(
    ...serviceRecords(
      'web',
      ['10.244.2.5', '10.244.2.6'].map((ip) => ({ host: ip.replaceAll('.', '-'), ips: [ip] })),
      { http: 8080 },
    ),
  );
  records.push(
    ...serviceRecords(
      'dual',
      [1, 2].map((i) => ({ host: `dual-${i - 1}`, ips: [`10.244.3.${i}`, `fd00::3:${i}`] })),
      { grpc: 50051 },
    ),
  );
  // 800 targets: BIND leaves the Additional section empty and UDP cannot hold the answer.
  records.push(
    ...serviceRecords(
      'big',
      Array.from({ length: 800 }, (_, i) => ({ host: `big-${i}`, ips: [ipv4(100, i)] })),
      { gossip: 7946 },
    ),
  );
  // 4,000 addresses: about 64 KB over TCP, near the DNS message limit.
  for (let i = 0; i < 4000; i++) records.push(`wide.default.svc IN A ${ipv4(200, i)}`);
  // MySQL-style: the port has no name, so no SRV; PTR gives the names.
  for (let i = 0; i < 3; i++) {
    records.push(`mysql.default.svc IN A 10.244.4.${i + 1}`, `mysql-${i}.mysql.default.svc IN A 10.244.4.${i + 1}`);
    ptr.push(`${i + 1}.4.244 IN PTR mysql-${i}.mysql.default.svc.cluster.local.`);
  }
  return [
    { origin: 'cluster.local', records },
    { origin: '10.in-addr.arpa', records: ptr },
  ];
}
