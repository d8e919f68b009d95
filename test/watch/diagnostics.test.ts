import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolvePeers, watchPeers } from '../../src/index.js';
import { type ClusterDns, createClusterDns } from '../../src/testing/index.js';

describe('diagnostics channels', () => {
  let dns: ClusterDns;
  beforeEach(async () => {
    dns = await createClusterDns();
    dns.addPod('web', { name: 'web-0', ip: '10.0.0.1', ports: { http: 80 } });
  });
  afterEach(() => dns.close());

  it('publishes every query on headless-peers:query and every poll on headless-peers:poll', async () => {
    const queries: Record<string, unknown>[] = [];
    const polls: Record<string, unknown>[] = [];
    const onQuery = (message: unknown) => queries.push(message as Record<string, unknown>);
    const onPoll = (message: unknown) => polls.push(message as Record<string, unknown>);
    subscribe('headless-peers:query', onQuery);
    subscribe('headless-peers:poll', onPoll);
    try {
      const options = { name: 'web.default.svc.cluster.local.', port: 'http', nameservers: [dns.nameserver] };
      await resolvePeers(options);
      expect(queries).toEqual([
        expect.objectContaining({
          name: '_http._tcp.web.default.svc.cluster.local',
          type: 'SRV',
          status: 'records',
          server: dns.nameserver,
          tcp: false,
        }),
      ]);
      const watcher = watchPeers(options);
      await watcher.ready();
      await watcher.close();
      expect(polls).toEqual([
        expect.objectContaining({ name: 'web.default.svc.cluster.local.', outcome: 'records', peers: 1, queries: 1 }),
      ]);
      dns.setFailure('refused');
      await resolvePeers({ ...options, attempts: 1 }).catch(() => {});
      expect(queries.at(-1)).toMatchObject({ status: undefined, error: expect.objectContaining({ code: 'EREFUSED' }) });
    } finally {
      unsubscribe('headless-peers:query', onQuery);
      unsubscribe('headless-peers:poll', onPoll);
    }
  });
});
