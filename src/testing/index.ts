export type { ClusterDns, ClusterDnsOptions, ClusterDnsStats, FailureMode, PodPort, PodSpec } from './cluster-dns.js';
export { createClusterDns } from './cluster-dns.js';
