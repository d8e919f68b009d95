import type { Peer } from '../../src/watch/peer.js';

/** The i-th peer of a made-up service, with any fields overridden. */
export function fixturePeer(
  i: number,
  address = `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`,
  extra: Partial<Peer> = {},
): Peer {
  return {
    id: `pod-${i}.svc:80`,
    name: `pod-${i}.svc`,
    address,
    addresses: [address],
    family: 4,
    port: 80,
    ttl: 5,
    ...extra,
  };
}
