import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { decode } from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsClient } from '../../src/wire/client.js';
import { parseNameserver } from '../../src/wire/nameserver.js';
import { aRecord, responseTo } from '../support/scripted-server.js';

describe('a nameserver is an address, not a string', () => {
  const server = createSocket('udp6');
  let port = 0;

  beforeAll(async () => {
    server.bind(0, '::1');
    await once(server, 'listening');
    port = server.address().port;
    server.on('message', (raw, rinfo) => {
      const query = decode(raw);
      const name = query.questions?.[0]?.name ?? '';
      server.send(responseTo(query, { answers: [aRecord(name, '10.0.0.1')] }), rinfo.port, rinfo.address);
    });
  });

  afterAll(() => {
    server.close();
  });

  it('answers through every spelling of ::1', async () => {
    for (const spelling of ['[::1]', '[0:0:0:0:0:0:0:1]', '[::0001]', '[0::1]']) {
      const client = new DnsClient({ nameservers: [`${spelling}:${port}`], timeout: 500, attempts: 1 });
      try {
        const result = await client.query('web.default.svc.cluster.local', 'A');
        expect([spelling, result.status, result.server]).toEqual([spelling, 'records', `[::1]:${port}`]);
      } finally {
        client.close();
      }
    }
  });

  it('is parsed into one canonical address', () => {
    expect(parseNameserver('[0:0:0:0:0:0:0:1]:53')).toEqual(parseNameserver('[::1]:53'));
    expect(parseNameserver('FD00:0::A')).toMatchObject({ host: 'fd00::a', label: '[fd00::a]:53' });
  });
});
