import { randomInt } from 'node:crypto';

/**
 * A random 16-bit query ID from the OS CSPRNG, which an off-path spoofer cannot predict. Node
 * draws the bytes for randomInt() in batches of its own.
 */
export function randomId(): number {
  return randomInt(0, 65536);
}
