import { metrics } from '@opentelemetry/api';
import { type DataPoint, type Histogram, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { instrument } from '../../src/adapters/otel.js';
import { type ClusterDns, createClusterDns } from '../../src/testing/index.js';
import { type PeerWatcher, watchPeers } from '../../src/watch/watcher.js';
import { until } from '../watch/helpers.js';

const SERVICE = 'kafka-headless.default.svc.cluster.local.';

/** A reader whose collect() the test calls. */
class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** The data points of every headless_peers metric, by name, each as `{attributes, value}`. */
async function read(reader: MetricReader): Promise<Map<string, { unit: string; points: DataPoint<unknown>[] }>> {
  const { resourceMetrics } = await reader.collect();
  const found = new Map<string, { unit: string; points: DataPoint<unknown>[] }>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      found.set(metric.descriptor.name, {
        unit: metric.descriptor.unit,
        points: metric.dataPoints as DataPoint<unknown>[],
      });
    }
  }
  return found;
}

/** The value of `name` whose attributes hold `match` (a number; a histogram's count). */
async function value(
  reader: MetricReader,
  name: string,
  match: Record<string, string> = {},
): Promise<number | undefined> {
  const metric = (await read(reader)).get(name);
  const point = metric?.points.find((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
  if (point === undefined) return undefined;
  return typeof point.value === 'number' ? point.value : (point.value as Histogram).count;
}

describe('instrument', () => {
  let dns: ClusterDns;
  let watcher: PeerWatcher;
  let reader: TestReader;
  let provider: MeterProvider;

  beforeEach(async () => {
    dns = await createClusterDns({ ttl: 1 });
    for (let i = 0; i < 3; i++)
      dns.addPod('kafka-headless', { name: `kafka-${i}`, ip: `10.0.0.${i + 1}`, ports: { kafka: 9092 } });
    watcher = watchPeers({
      name: SERVICE,
      port: 'kafka',
      nameservers: [dns.nameserver],
      respectTtl: false,
      interval: 50,
      minInterval: 20,
      maxInterval: 100,
      timeout: 200,
      attempts: 1,
    });
    reader = new TestReader();
    provider = new MeterProvider({ readers: [reader] });
  });

  afterEach(async () => {
    await watcher.close();
    await provider.shutdown();
    await dns.close();
  });

  it('records peers, polls by outcome, poll durations, events and staleness, through joins, leaves, an outage and recovery', async () => {
    const stop = instrument(watcher, { meterProvider: provider });
    const service = { service: SERVICE };
    await watcher.ready();
    expect(await value(reader, 'headless_peers.peers', service)).toBe(3);
    expect(await value(reader, 'headless_peers.events', { ...service, event: 'peer-joined' })).toBe(3);
    expect(await value(reader, 'headless_peers.polls', { ...service, outcome: 'records' })).toBeGreaterThanOrEqual(1);
    const metricsNow = await read(reader);
    expect(
      ['peers', 'polls', 'poll.duration', 'events', 'staleness'].map(
        (n) => metricsNow.get(`headless_peers.${n}`)?.unit,
      ),
    ).toEqual(['{peer}', '{poll}', 's', '{event}', 's']);
    // A join and a leave.
    dns.addPod('kafka-headless', { name: 'kafka-3', ip: '10.0.0.4', ports: { kafka: 9092 } });
    await until(() => watcher.peers().length === 4, 'the join');
    dns.removePod('kafka-headless', 'kafka-0');
    await until(
      () => watcher.peers().length === 3 && watcher.peers().every((p) => !p.name?.startsWith('kafka-0.')),
      'the leave',
    );
    expect(await value(reader, 'headless_peers.events', { ...service, event: 'peer-joined' })).toBe(4);
    expect(await value(reader, 'headless_peers.events', { ...service, event: 'peer-left' })).toBe(1);
    // An outage: failed polls counted, staleness grows, the peers are kept.
    dns.setFailure('servfail');
    const failuresAt = watcher.stats.failures;
    await until(() => watcher.stats.failures >= failuresAt + 3, 'three failed polls');
    const failures = (await value(reader, 'headless_peers.polls', { ...service, outcome: 'failure' })) ?? 0;
    expect(failures).toBeGreaterThanOrEqual(3);
    const stale = (await value(reader, 'headless_peers.staleness', service)) ?? 0;
    await until(() => watcher.stats.failures >= failuresAt + 4, 'a fourth failed poll');
    expect((await value(reader, 'headless_peers.staleness', service)) ?? 0).toBeGreaterThan(stale);
    expect(await value(reader, 'headless_peers.peers', service)).toBe(3);
    // Recovery: staleness falls back, polls are records again.
    dns.setFailure(null);
    const successes = watcher.stats.successes;
    await until(() => watcher.stats.successes > successes, 'a good poll');
    expect((await value(reader, 'headless_peers.staleness', service)) ?? 1).toBeLessThan(stale);
    // One duration per finished poll (one may finish while the metrics are read).
    const finished = () => watcher.stats.successes + watcher.stats.failures;
    const before = finished();
    const durations = (await value(reader, 'headless_peers.poll.duration', service)) ?? 0;
    expect(durations).toBeGreaterThanOrEqual(before);
    expect(durations).toBeLessThanOrEqual(finished());
    // Stopped: no more counting, no more observing.
    stop();
    const counted = await value(reader, 'headless_peers.polls', { ...service, outcome: 'records' });
    const polled = watcher.stats.polls;
    await until(() => watcher.stats.polls >= polled + 2, 'two more polls');
    expect(await value(reader, 'headless_peers.polls', { ...service, outcome: 'records' })).toBe(counted);
    // The gauge's callback is gone: a fourth peer is not observed (the SDK keeps the last value).
    dns.addPod('kafka-headless', { name: 'kafka-4', ip: '10.0.0.5', ports: { kafka: 9092 } });
    await until(() => watcher.peers().length === 4, 'a fourth peer');
    expect(await value(reader, 'headless_peers.peers', service)).not.toBe(4);
  });

  it('uses the global meter provider by default', async () => {
    metrics.setGlobalMeterProvider(provider);
    try {
      const stop = instrument(watcher);
      await watcher.ready();
      expect(await value(reader, 'headless_peers.peers')).toBe(3);
      stop();
    } finally {
      metrics.disable();
    }
  });

  it('rejects what is not a watcher or a meter provider, naming it', () => {
    expect(() => instrument({} as PeerWatcher)).toThrow(/^watcher: expected a PeerWatcher/);
    expect(() => instrument(watcher, { meterProvider: {} as MeterProvider })).toThrow(
      /^meterProvider: expected an OpenTelemetry MeterProvider/,
    );
  });
});
