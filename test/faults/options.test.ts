import { describe, expect, it } from 'vitest';
import { createPeerPool, DnsClient, podName, resolvePeers, serviceName, srvName, watchPeers } from '../../src/index.js';
import { createClusterDns } from '../../src/testing/index.js';

// Wrong values by kind of option: every one must give a TypeError that starts with the option's name.
const NOT_A_NUMBER = ['5', {}, [], true, Number.NaN, Number.POSITIVE_INFINITY, null];
const NOT_A_STRING = [5, {}, [], true, null];
const NOT_A_BOOLEAN = ['yes', 1, {}, null];
const NOT_A_FUNCTION = ['f', 1, {}, null];

const base = { name: 'web.default.svc.cluster.local.', nameservers: ['127.0.0.1:1'] };
const watchNumbers: Record<string, unknown[]> = {
  interval: [0, -1, 1.5, 2 ** 31],
  minInterval: [-1, 0.5],
  maxInterval: [0, -5, 2 ** 31],
  jitter: [-0.1, 1.5],
  confirmEmpty: [0, 1.5, 10_000],
  leaveAfter: [-1, 0.5],
  timeout: [0, -1, 0.5],
  attempts: [0, 101, 1.5],
  ndots: [-1, 16, 0.5],
  concurrency: [0, 2000],
};

function expectTypeError(call: () => unknown, option: string, value: unknown): void {
  let thrown: unknown;
  try {
    call();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `${option} = ${String(value)}`).toBeInstanceOf(TypeError);
  expect((thrown as Error).message, `${option} = ${String(value)}`).toMatch(new RegExp(`^${option}: `));
}

async function expectRejectedTypeError(call: () => Promise<unknown>, option: string, value: unknown): Promise<void> {
  const thrown = await call().then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(thrown, `${option} = ${String(value)}`).toBeInstanceOf(TypeError);
  expect((thrown as Error).message, `${option} = ${String(value)}`).toMatch(new RegExp(`^${option}: `));
}

describe('every option with a wrong type or an out-of-range value throws a TypeError naming it', () => {
  it('watchPeers and resolvePeers', async () => {
    const cases: [string, unknown][] = [];
    for (const [option, extra] of Object.entries(watchNumbers))
      for (const value of [...NOT_A_NUMBER, ...extra]) cases.push([option, value]);
    for (const value of [...NOT_A_STRING, '', 'a..b', `${'a'.repeat(64)}.x`, 'x'.repeat(300)])
      cases.push(['name', value]);
    for (const value of [
      ...NOT_A_STRING.filter((v) => typeof v !== 'number'),
      '',
      'bad_name',
      'x'.repeat(16),
      0,
      65536,
      -1,
      1.5,
      Number.NaN,
    ])
      cases.push(['port', value]);
    for (const value of [...NOT_A_STRING, '', 't cp']) cases.push(['protocol', value]);
    for (const value of ['4', 5, 1, -1, null, Number.NaN]) cases.push(['family', value]);
    for (const value of ['10.0.0.1', [], [5], ['nope'], ['10.0.0.1:0'], ['[::1'], null])
      cases.push(['nameservers', value]);
    for (const value of ['a.b', [5], ['a..b'], null]) cases.push(['search', value]);
    for (const value of NOT_A_BOOLEAN) cases.push(['names', value], ['respectTtl', value], ['excludeSelf', value]);
    for (const value of [{}, 'client', 5]) cases.push(['client', value]);
    for (const value of [{}, 'signal', 5]) cases.push(['signal', value]);
    for (const value of [...NOT_A_STRING, '', 'Bad_Service']) cases.push(['service', value]);
    for (const value of [5, '', '-ns']) cases.push(['namespace', value]);
    for (const value of [5, '', 'a..b']) cases.push(['clusterDomain', value]);
    for (const [option, value] of cases) {
      const options =
        option === 'service' || option === 'namespace' || option === 'clusterDomain'
          ? { nameservers: base.nameservers, service: 'web', [option]: value }
          : { ...base, [option]: value };
      expectTypeError(() => watchPeers(options as never), option, value);
      if (
        ![
          'interval',
          'minInterval',
          'maxInterval',
          'jitter',
          'confirmEmpty',
          'leaveAfter',
          'respectTtl',
          'excludeSelf',
        ].includes(option)
      ) {
        await expectRejectedTypeError(() => resolvePeers(options as never), option, value);
      }
    }
    expectTypeError(() => watchPeers(null as never), 'options', null);
    await expectRejectedTypeError(() => resolvePeers('web' as never), 'options', 'web');
  });

  it('DnsClient', async () => {
    const numbers: Record<string, unknown[]> = {
      timeout: [0],
      attempts: [0],
      ndots: [16],
      udpPayloadSize: [511, 65536],
    };
    for (const [option, extra] of Object.entries(numbers)) {
      for (const value of [...NOT_A_NUMBER, ...extra])
        expectTypeError(() => new DnsClient({ nameservers: ['::1'], [option]: value }), option, value);
    }
    for (const value of ['::1', [], [7], null])
      expectTypeError(() => new DnsClient({ nameservers: value as never }), 'nameservers', value);
    for (const value of [5, 'x']) expectTypeError(() => new DnsClient(value as never), 'DnsClient options', value);
    const client = new DnsClient({ nameservers: ['127.0.0.1:1'] });
    try {
      for (const value of ['MX', 'a', 5, null]) {
        await expectRejectedTypeError(() => client.query('web.example', value as never), 'type', value);
      }
    } finally {
      client.close();
    }
  });

  it('createPeerPool', async () => {
    const dns = await createClusterDns();
    const watcher = watchPeers({ name: base.name, nameservers: [dns.nameserver] });
    try {
      const good = { watcher, connect: async () => ({}), destroy: () => {} };
      const numbers = [
        'connectionsPerPeer',
        'checkInterval',
        'checkTimeout',
        'connectTimeout',
        'reconnectDelay',
        'maxFailures',
        'baseEjectionTime',
        'maxEjectionTime',
        'maxEjectedPercent',
      ];
      for (const option of numbers) {
        for (const value of [...NOT_A_NUMBER, -1, 1.5])
          expectTypeError(() => createPeerPool({ ...good, [option]: value } as never), option, value);
      }
      for (const option of ['connect', 'destroy', 'check']) {
        for (const value of NOT_A_FUNCTION)
          expectTypeError(() => createPeerPool({ ...good, [option]: value } as never), option, value);
      }
      for (const value of ['random', 5, null])
        expectTypeError(() => createPeerPool({ ...good, strategy: value } as never), 'strategy', value);
      for (const value of [{}, null, 'w'])
        expectTypeError(() => createPeerPool({ ...good, watcher: value } as never), 'watcher', value);
    } finally {
      await watcher.close();
      await dns.close();
    }
  });

  it('createClusterDns and the name helpers', async () => {
    for (const value of [...NOT_A_NUMBER, -1, 70000])
      await expectRejectedTypeError(() => createClusterDns({ port: value as never }), 'port', value);
    for (const value of [...NOT_A_NUMBER, -1])
      await expectRejectedTypeError(() => createClusterDns({ ttl: value as never }), 'ttl', value);
    for (const value of [...NOT_A_STRING, '', 'a..b'])
      await expectRejectedTypeError(() => createClusterDns({ clusterDomain: value as never }), 'clusterDomain', value);
    for (const value of NOT_A_BOOLEAN)
      await expectRejectedTypeError(() => createClusterDns({ additionals: value as never }), 'additionals', value);
    for (const value of [...NOT_A_STRING, ''])
      expectTypeError(() => serviceName({ service: value as never }), 'service', value);
    for (const value of [...NOT_A_STRING, ''])
      expectTypeError(() => srvName({ port: value as never, name: 'x' }), 'port', value);
    for (const value of [...NOT_A_NUMBER, -1, 1.5])
      expectTypeError(() => podName({ statefulSet: 's', ordinal: value as never, service: 'x' }), 'ordinal', value);
  });
});
