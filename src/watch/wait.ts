import type { PeerWatcher } from './watcher.js';

/**
 * Runs `decide` now and after every poll of `watcher` until it gives a value, which the promise
 * resolves with. One run at a time: polls that end during a run make one more run after it.
 * Rejects with what `decide` throws, with `signal`'s reason on abort, and with `closed()` when
 * the watcher closes. `decide`'s own signal aborts as soon as the wait is over. While it waits,
 * it keeps the process alive, which the idle watcher does not.
 */
export function decideOnPolls<T>(
  watcher: PeerWatcher,
  decide: (over: AbortSignal) => T | undefined | Promise<T | undefined>,
  signal: AbortSignal | undefined,
  closed: () => Error,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (watcher.signal.aborted) return Promise.reject(closed());
  const over = new AbortController();
  let running = false;
  let again = false;
  // Runs until one decides, or no poll ended during the last.
  const runs = async (): Promise<T | undefined> => {
    do {
      again = false;
      const value = await decide(over.signal);
      if (value !== undefined || over.signal.aborted) return value;
    } while (again);
    return undefined;
  };
  return new Promise<T>((resolve, reject) => {
    const alive = setInterval(() => {}, 2 ** 31 - 1);
    const finish = (settle: () => void) => {
      if (over.signal.aborted) return;
      over.abort();
      clearInterval(alive);
      stopPolled();
      signal?.removeEventListener('abort', onAbort);
      watcher.signal.removeEventListener('abort', onClose);
      settle();
    };
    const onAbort = () => finish(() => reject(signal?.reason));
    const onClose = () => finish(() => reject(closed()));
    const next = () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      runs().then(
        (value) => {
          running = false;
          if (value !== undefined) finish(() => resolve(value));
        },
        (err: unknown) => {
          running = false;
          finish(() => reject(err));
        },
      );
    };
    const stopPolled = watcher.onPolled(next);
    signal?.addEventListener('abort', onAbort, { once: true });
    watcher.signal.addEventListener('abort', onClose, { once: true });
    next();
  });
}
