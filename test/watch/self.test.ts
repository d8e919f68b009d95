import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { selfIdentity } from '../../src/watch/self.js';
import { canonicalAddress } from '../../src/wire/nameserver.js';

describe('selfIdentity', () => {
  it('takes POD_NAME, then HOSTNAME, and POD_IP from the environment the downward API gives', () => {
    const pod = selfIdentity(undefined, { POD_NAME: 'kafka-2', HOSTNAME: 'other', POD_IP: '10.244.1.7' });
    expect(pod).toEqual({ host: 'kafka-2', addresses: new Set(['10.244.1.7']) });
    expect(selfIdentity(undefined, { HOSTNAME: 'Kafka-3', POD_IP: 'fd00:0::7' })).toEqual({
      host: 'kafka-3',
      addresses: new Set(['fd00::7']),
    });
  });

  it('falls back to the host name and every interface address', () => {
    const os = selfIdentity(undefined, {});
    expect(os.host).toBe(hostname().split('.')[0]?.toLowerCase());
    expect(os.addresses.has('127.0.0.1')).toBe(true);
  });

  it('takes self as given, and only that', () => {
    expect(selfIdentity({ address: '0:0:0:0:0:0:0:1' })).toEqual({ host: '', addresses: new Set(['::1']) });
    expect(selfIdentity({ name: 'web-0.web.default.svc.cluster.local' })).toEqual({
      host: 'web-0',
      addresses: new Set(),
    });
  });

  it('writes an address one way', () => {
    expect(['::0001', '0:0::1', 'FD00::A', '10.0.0.1'].map(canonicalAddress)).toEqual([
      '::1',
      '::1',
      'fd00::a',
      '10.0.0.1',
    ]);
  });
});
