import { describe } from 'vitest';
import { startBind } from '../support/bind.js';
import { requireNamed, skipIntegration } from '../support/named-required.js';
import { formationTests, SERVICE } from './formation-suite.js';

const BASE = `${SERVICE}.default.svc.cluster.local.`;

describe.skipIf(skipIntegration)('bootstrap() across processes, on BIND 9 changed with nsupdate', () => {
  formationTests('BIND 9', '127.0.3', async () => {
    const bind = await startBind(requireNamed(), [{ origin: 'cluster.local', records: [], ttl: 1 }]);
    return {
      nameserver: bind.nameserver,
      add: (name, ip, port) =>
        bind.update('cluster.local', [
          `update add ${name}.${BASE} 1 A ${ip}`,
          `update add ${BASE} 1 A ${ip}`,
          `update add _gossip._tcp.${BASE} 1 SRV 0 20 ${port} ${name}.${BASE}`,
        ]),
      remove: (name, ip, port) =>
        bind.update('cluster.local', [
          `update delete ${name}.${BASE} A`,
          `update delete ${BASE} A ${ip}`,
          `update delete _gossip._tcp.${BASE} SRV 0 20 ${port} ${name}.${BASE}`,
        ]),
      close: () => bind.close(),
    };
  });
});
