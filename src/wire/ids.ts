import { randomFillSync } from 'node:crypto';

// Query IDs come from the OS CSPRNG, drawn in batches: one syscall per 4,096 queries
// instead of one per query, and still unpredictable to an off-path spoofer.
const batch = new Uint16Array(4096);
let next = batch.length;

/** A random 16-bit query ID. */
export function randomId(): number {
  if (next === batch.length) {
    randomFillSync(batch);
    next = 0;
  }
  return batch[next++] ?? 0;
}
