import type { PeerWatcher } from '../../src/watch/watcher.js';

/** Lets real I/O run (fake timers stay put) until `done()` holds; fails after 5 s of real time. */
export async function until(done: () => boolean, what = 'condition'): Promise<void> {
  const deadline = performance.now() + 5000;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Polls finished so far, failed or not. */
export function finished(watcher: PeerWatcher): number {
  return watcher.stats.successes + watcher.stats.failures;
}

/** Waits until the watcher has finished `count` polls. */
export function polled(watcher: PeerWatcher, count: number): Promise<void> {
  return until(() => finished(watcher) >= count, `${count} polls (have ${finished(watcher)})`);
}

/** Records every event a watcher emits, in order. */
export function record(watcher: PeerWatcher): string[] {
  const events: string[] = [];
  watcher.on('peer-joined', (peer) => events.push(`joined ${peer.id}`));
  watcher.on('peer-left', (peer, reason) => events.push(`left ${peer.id} ${reason}`));
  watcher.on('peer-updated', (peer, previous) =>
    events.push(`updated ${peer.id} ${previous.address}->${peer.address}`),
  );
  watcher.on('changed', (change) => events.push(`changed ${change.peers.length}`));
  watcher.on('error', (error) => events.push(`error ${error.code}`));
  return events;
}
