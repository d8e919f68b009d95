export type { BootstrapErrorCode, BootstrapOptions, BootstrapPlan } from './bootstrap.js';
export { BootstrapError, bootstrap } from './bootstrap.js';
export { comparePeers, lowestPeer } from './lowest.js';
