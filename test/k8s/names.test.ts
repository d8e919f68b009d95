import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  clusterDomainOf,
  isDashedIp,
  ordinalOf,
  podName,
  podNamespace,
  reverseName,
  searchCandidates,
  serviceName,
  srvName,
} from '../../src/k8s/index.js';

describe('name helpers', () => {
  it('builds service, SRV and pod names', () => {
    expect(serviceName({ service: 'kafka-headless' })).toBe('kafka-headless.default.svc.cluster.local');
    expect(serviceName({ service: 'Kafka', namespace: 'data', clusterDomain: 'corp.internal.' })).toBe(
      'kafka.data.svc.corp.internal',
    );
    expect(srvName({ port: 'kafka', service: 'kafka-headless', namespace: 'data' })).toBe(
      '_kafka._tcp.kafka-headless.data.svc.cluster.local',
    );
    expect(srvName({ port: 'dns', protocol: 'udp', name: 'coredns' })).toBe('_dns._udp.coredns');
    expect(podName({ statefulSet: 'mysql', ordinal: 0, service: 'mysql-headless' })).toBe(
      'mysql-0.mysql-headless.default.svc.cluster.local',
    );
  });

  it('rejects bad parts with a TypeError naming the option', () => {
    expect(() => serviceName({ service: '' })).toThrow(/service: .*""/);
    expect(() => serviceName({ service: 'a_b' })).toThrow(/service/);
    expect(() => serviceName({ service: 'x'.repeat(64) })).toThrow(/service/);
    expect(() => serviceName({ service: 'web', namespace: '-ns' })).toThrow(/namespace/);
    expect(() => serviceName({ service: 'web', clusterDomain: 'a..b' })).toThrow(/clusterDomain/);
    expect(() => srvName({ port: 'a-very-long-port-name', name: 'web' })).toThrow(/port/);
    expect(() => srvName({ port: '80', name: 'web' })).toThrow(/port/);
    expect(() => srvName({ port: 'http', protocol: 't cp', name: 'web' })).toThrow(/protocol/);
    expect(() => podName({ statefulSet: 'mysql', ordinal: -1, service: 'm' })).toThrow(/ordinal: .*-1/);
  });

  it('reads StatefulSet ordinals and leaves dashed IPs alone', () => {
    expect(ordinalOf('kafka-0.kafka-headless.default.svc.cluster.local')).toBe(0);
    expect(ordinalOf('my-cool-set-12.svc')).toBe(12);
    expect(ordinalOf('web.default.svc')).toBeUndefined();
    expect(ordinalOf('set-01.svc')).toBeUndefined();
    expect(ordinalOf('10-244-1-7.web.default.svc.cluster.local')).toBeUndefined();
    expect(ordinalOf('fd00-10-244--7.web.default.svc.cluster.local')).toBeUndefined();
    expect(isDashedIp('10-244-1-7')).toBe(true);
    expect(isDashedIp('2001-db8--1')).toBe(true);
    expect(isDashedIp('abc-0')).toBe(false);
  });

  it('property: ordinalOf(podName(...)) gives the ordinal back', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9]{0,20}$/), fc.integer({ min: 0, max: 99999 }), (set, ordinal) => {
        fc.pre(!isDashedIp(`${set}-${ordinal}`));
        expect(ordinalOf(podName({ statefulSet: set, ordinal, service: 'svc' }))).toBe(ordinal);
      }),
    );
  });

  it('builds reverse names for IPv4 and IPv6', () => {
    expect(reverseName('10.244.1.7')).toBe('7.1.244.10.in-addr.arpa');
    expect(reverseName('fd00::3:1')).toBe(`1.0.0.0.3.0.0.0.${'0.0.0.0.'.repeat(5)}0.0.d.f.ip6.arpa`);
    expect(reverseName('::ffff:10.0.0.1')).toBe(reverseName('::ffff:a00:1'));
    expect(() => reverseName('nope')).toThrow(/address/);
  });
});

describe('searchCandidates', () => {
  const search = ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'];
  it('tries short names with each suffix first, then as-is', () => {
    expect(searchCandidates('kafka', search, 5)).toEqual([
      'kafka.default.svc.cluster.local',
      'kafka.svc.cluster.local',
      'kafka.cluster.local',
      'kafka',
    ]);
  });
  it('tries names with enough dots as-is first', () => {
    expect(searchCandidates('kafka.data.svc.cluster.local', search, 4)[0]).toBe('kafka.data.svc.cluster.local');
  });
  it('tries a name ending in a dot only as-is', () => {
    expect(searchCandidates('kafka.data.svc.cluster.local.', search, 5)).toEqual(['kafka.data.svc.cluster.local']);
  });
});

describe('pod environment', () => {
  it('takes the namespace from the service-account file, then POD_NAMESPACE, else default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hp-ns-'));
    const file = join(dir, 'namespace');
    writeFileSync(file, 'payments\n');
    expect(podNamespace(file, {})).toBe('payments');
    expect(podNamespace(join(dir, 'missing'), { POD_NAMESPACE: 'billing' })).toBe('billing');
    expect(podNamespace(join(dir, 'missing'), {})).toBe('default');
  });
  it('reads the cluster domain off the search list', () => {
    expect(clusterDomainOf(['data.svc.corp.internal', 'svc.corp.internal', 'corp.internal'])).toBe('corp.internal');
    expect(clusterDomainOf([])).toBe('cluster.local');
  });
});
