import { type Attributes, type BatchObservableCallback, type MeterProvider, metrics } from '@opentelemetry/api';
import { checkWatcher, type PeerWatcher, type PollReport } from '../watch/watcher.js';
import { describe } from '../wire/check.js';

/** Options of {@link instrument}. */
export interface InstrumentOptions {
  /** Where the metrics go. @default the global provider of `@opentelemetry/api` */
  meterProvider?: MeterProvider;
}

const EVENTS = ['peer-joined', 'peer-left', 'peer-updated', 'peer-missing', 'peer-returned'] as const;

/**
 * Records a watcher's membership as OpenTelemetry metrics, each with the attribute `service`:
 * `headless_peers.peers` (gauge), `headless_peers.polls` (counter, `outcome`: `records`, `empty`
 * or `failure`), `headless_peers.poll.duration` (histogram, seconds),
 * `headless_peers.events` (counter, `event`: `peer-joined`, `peer-left`, `peer-updated`,
 * `peer-missing`, `peer-returned`) and `headless_peers.staleness` (gauge, seconds since the
 * last successful poll). Returns a function that stops it.
 *
 * @example
 * const stop = instrument(watchPeers({ name: 'kafka-headless', port: 'kafka' }));
 */
export function instrument(watcher: PeerWatcher, options: InstrumentOptions = {}): () => void {
  checkWatcher(watcher);
  const provider = options.meterProvider ?? metrics.getMeterProvider();
  if (typeof provider?.getMeter !== 'function') {
    throw new TypeError(`meterProvider: expected an OpenTelemetry MeterProvider, got ${describe(provider)}`);
  }
  const meter = provider.getMeter('headless-peers');
  const attributes: Attributes = { service: watcher.service };
  const peers = meter.createObservableGauge('headless_peers.peers', {
    description: 'Members of the service, held ones included',
    unit: '{peer}',
  });
  const staleness = meter.createObservableGauge('headless_peers.staleness', {
    description: 'Time since the last successful poll (since instrumenting, before the first)',
    unit: 's',
  });
  const polls = meter.createCounter('headless_peers.polls', { description: 'Polls by outcome', unit: '{poll}' });
  const duration = meter.createHistogram('headless_peers.poll.duration', {
    description: 'How long a poll took, failed ones included',
    unit: 's',
  });
  const events = meter.createCounter('headless_peers.events', { description: 'Membership events', unit: '{event}' });

  const since = Date.now();
  const observe: BatchObservableCallback = (result) => {
    result.observe(peers, watcher.peers().length, attributes);
    result.observe(staleness, (Date.now() - (watcher.stats.lastSuccessAt ?? since)) / 1000, attributes);
  };
  meter.addBatchObservableCallback(observe, [peers, staleness]);
  const stopPolled = watcher.onPolled((report: PollReport) => {
    polls.add(1, { ...attributes, outcome: report.outcome });
    duration.record(report.durationMs / 1000, attributes);
  });
  const counters = EVENTS.map((event) => {
    const count = () => events.add(1, { ...attributes, event });
    watcher.on(event, count);
    return () => watcher.off(event, count);
  });
  return () => {
    meter.removeBatchObservableCallback(observe, [peers, staleness]);
    stopPolled();
    for (const off of counters) off();
  };
}
