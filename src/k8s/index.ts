export type { PodRef, ServiceRef, SrvRef } from './names.js';
export {
  checkPortName,
  checkProtocol,
  isDashedIp,
  ordinalOf,
  podName,
  reverseName,
  serviceName,
  srvName,
  srvPrefix,
} from './names.js';
export { clusterDomainOf, podNamespace } from './pod-env.js';
export { searchCandidates } from './search.js';
