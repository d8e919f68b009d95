export type { BootstrapErrorCode, BootstrapOptions, BootstrapPlan } from './formation/index.js';
export { BootstrapError, bootstrap, lowestPeer } from './formation/index.js';
export type { PodRef, ServiceRef, SrvRef } from './k8s/names.js';
export { podName, serviceName, srvName } from './k8s/names.js';
export type { PoolErrorCode } from './pool/errors.js';
export { PoolError } from './pool/errors.js';
export type { Strategy } from './pool/pick.js';
export type {
  AcquireOptions,
  EachResult,
  Lease,
  PeerPoolEvents,
  PeerPoolOptions,
  PoolStats,
  UnhealthyReason,
} from './pool/pool.js';
export { createPeerPool, PeerPool } from './pool/pool.js';
export type { ChangedFields, PeerUpdate } from './watch/diff.js';
export type { PeerQueryOptions } from './watch/options.js';
export type { Peer } from './watch/peer.js';
export type { ResolvePeersOptions } from './watch/resolve.js';
export { resolvePeers } from './watch/resolve.js';
export type { SelfOptions } from './watch/self.js';
export type {
  LeaveReason,
  PeerChange,
  PeerWatcherEvents,
  SettledOptions,
  WatcherStats,
  WatchPeersOptions,
} from './watch/watcher.js';
export { PeerWatcher, pollChannel, watchPeers } from './watch/watcher.js';
export type { DnsClientOptions, DnsClientStats, DnsResult, QueryOptions, QueryType, SrvRecord } from './wire/client.js';
export { DnsClient } from './wire/client.js';
export type { QueryMessage } from './wire/diagnostics.js';
export { queryChannel } from './wire/diagnostics.js';
export type { DnsErrorCode, DnsErrorDetails } from './wire/errors.js';
export { DnsError } from './wire/errors.js';
export type { DnsRecord, RecordData, RecordOf, RecordType, SoaData, SrvData } from './wire/records.js';
export type { ResolvConf } from './wire/resolv-conf.js';
export { readResolvConf } from './wire/resolv-conf.js';
