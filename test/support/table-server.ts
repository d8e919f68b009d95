import type { Answer, SrvAnswer } from 'dns-packet';
import { type ScriptedServer, startScriptedServer } from './scripted-server.js';

type Type = 'A' | 'AAAA' | 'SRV';
/** Addresses for A/AAAA, `port target` pairs for SRV, or an authoritative NXDOMAIN. */
type Data = string[] | 'nxdomain';

/**
 * A scripted server that answers from a table a test changes, and can be told to repeat an
 * old answer for a name a few more times: what a cache does when each name's entry
 * expires on its own clock (see ../shared/INTEROP.md). No Additional records, as behind a
 * cache. A name not in the table is NXDOMAIN.
 */
export interface TableServer {
  readonly nameserver: string;
  /** Every question asked, `TYPE name`, in order. */
  readonly asked: string[];
  /** What `name` answers for `type` from now on. SRV data: `'port target'` strings. */
  set(name: string, type: Type, data: Data): void;
  /** The next `times` questions for `name`/`type` get `data` instead of the table's answer. */
  serveStale(name: string, type: Type, data: Data, times: number): void;
  close(): Promise<void>;
}

export async function startTableServer(ttl = 5): Promise<TableServer> {
  const server: ScriptedServer = await startScriptedServer();
  const table = new Map<string, Data>();
  const stale = new Map<string, { data: Data; times: number }>();
  const asked: string[] = [];
  const key = (name: string, type: string) => `${type} ${name.toLowerCase().replace(/\.$/, '')}`;

  const answer = (name: string, type: string): Data => {
    const k = key(name, type);
    asked.push(k);
    const old = stale.get(k);
    if (old !== undefined && old.times > 0) {
      old.times--;
      return old.data;
    }
    return table.get(k) ?? 'nxdomain';
  };

  const handler = (exchange: Parameters<Parameters<ScriptedServer['onUdp']>[0]>[0]) => {
    const question = exchange.query.questions?.[0];
    if (question === undefined) return;
    const data = answer(question.name, question.type);
    if (data === 'nxdomain') {
      exchange.reply({
        rcode: 3,
        authorities: [
          {
            type: 'SOA',
            name: 'cluster.local',
            ttl,
            class: 'IN',
            data: {
              mname: 'ns.cluster.local',
              rname: 'hostmaster.cluster.local',
              serial: 1,
              refresh: 7200,
              retry: 1800,
              expire: 86400,
              minimum: ttl,
            },
          },
        ],
      });
      return;
    }
    const answers: Answer[] = data.map((item): Answer => {
      if (question.type !== 'SRV')
        return { type: question.type as 'A', name: question.name, ttl, class: 'IN', data: item };
      const [port, target] = item.split(' ');
      const srv: SrvAnswer = {
        type: 'SRV',
        name: question.name,
        ttl,
        class: 'IN',
        data: { priority: 0, weight: 10, port: Number(port), target: target ?? '' },
      };
      return srv;
    });
    exchange.reply({ answers });
  };
  server.onUdp(handler);
  server.onTcp(handler);

  return {
    nameserver: server.nameserver,
    asked,
    set: (name, type, data) => {
      table.set(key(name, type), data);
    },
    serveStale: (name, type, data, times) => {
      stale.set(key(name, type), { data, times });
    },
    close: () => server.close(),
  };
}
