import { randomInt } from 'node:crypto';

/**
 * A random 16-bit query ID from the OS CSPRNG, which an off-path spoofer cannot predict. Node
 * draws the bytes for randomInt() in batches of its own.
 */
function randomId(): number {
  return randomInt(0, 65536);
}

/** A random ID that none of the queries in flight on a line has. */
export function freeId(taken: ReadonlyMap<number, unknown>): number {
  let id = randomId();
  while (taken.has(id)) id = randomId();
  return id;
}
