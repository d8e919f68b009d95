import { createClusterDns } from '../testing/index.js';
import { resolvePeers } from '../watch/resolve.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Where the story is told. @default process.stdout */
  out?: NodeJS.WritableStream;
}

/**
 * Starts the embedded cluster DNS with a 3-pod StatefulSet-like service and prints the
 * peers `resolvePeers` finds there. No cluster needed.
 */
export async function runDemo(options: DemoOptions = {}): Promise<void> {
  const out = options.out ?? process.stdout;
  const dns = await createClusterDns();
  try {
    for (let ordinal = 0; ordinal < 3; ordinal++) {
      dns.addPod('kafka-headless', {
        name: `kafka-${ordinal}`,
        ip: `10.244.0.${10 + ordinal}`,
        ports: { kafka: 9092 },
      });
    }
    const name = 'kafka-headless.default.svc.cluster.local';
    out.write(`embedded cluster DNS on ${dns.nameserver}: service ${name}, 3 pods\n`);
    const peers = await resolvePeers({ name, port: 'kafka', nameservers: [dns.nameserver], search: [] });
    out.write(`resolvePeers({ name: '${name}', port: 'kafka' }) found ${peers.length} peers:\n`);
    for (const peer of peers) {
      out.write(`  ${peer.id.padEnd(52)} ${peer.address.padEnd(15)} ordinal ${peer.ordinal ?? '-'}\n`);
    }
  } finally {
    await dns.close();
  }
}
