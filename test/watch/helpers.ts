import { type PeerWatcher, type WatchPeersOptions, watchPeers } from '../../src/watch/watcher.js';

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

/** A watcher schedule for tests on fake timers: a poll a second exactly, IPv4, one try of 500 ms. */
export const EVERY_SECOND = {
  family: 4,
  search: [],
  timeout: 500,
  attempts: 1,
  jitter: 0,
  respectTtl: false,
  interval: 1000,
} as const satisfies Partial<WatchPeersOptions>;

/** Makes watchers from `defaults()` (read when each is made) and closes them all at once. */
export function watcherSet(defaults: () => WatchPeersOptions): {
  watch(options?: Partial<WatchPeersOptions>): PeerWatcher;
  closeAll(): Promise<void>;
} {
  const made: PeerWatcher[] = [];
  return {
    watch: (options = {}) => {
      const watcher = watchPeers({ ...defaults(), ...options });
      made.push(watcher);
      return watcher;
    },
    closeAll: async () => {
      await Promise.all(made.splice(0).map((watcher) => watcher.close()));
    },
  };
}
