import { describe } from 'vitest';
import { createClusterDns } from '../../src/testing/index.js';
import { formationTests, SERVICE } from './formation-suite.js';

describe('bootstrap() across processes, on the embedded cluster DNS', () => {
  formationTests('embedded cluster DNS', '127.0.2', async () => {
    const dns = await createClusterDns({ ttl: 1 });
    return {
      nameserver: dns.nameserver,
      add: async (name, ip, port) => dns.addPod(SERVICE, { name, ip, ports: { gossip: port } }),
      remove: async (name) => void dns.removePod(SERVICE, name),
      close: () => dns.close(),
    };
  });
});
