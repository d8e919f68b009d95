import { getEventListeners } from 'node:events';

/**
 * Abort listeners that are cheap to add and remove, on the signals the library makes for
 * itself (a watcher's, a `resolvePeers` call's): every query listens to its signal while it
 * waits, and on Node 20 adding and removing an `AbortSignal` listener costs ~4–6 µs, a third
 * of a whole query's own work. A shared signal has one listener of its own for its whole
 * life; a query's listener is an entry in a list under it. (A list, not a Set: a watcher's
 * signal goes from no entry to one and back every poll, and measured alone that costs a
 * Set ~200–300 ns, an array ~65 ns.)
 *
 * Only for signals the library makes and drops: the one listener stays until the signal
 * aborts, and Node keeps a timeout or composite signal alive while it has a listener.
 * Any other signal gets ordinary listeners.
 */
const shared = new WeakMap<AbortSignal, AbortListener[]>();

/**
 * What waits for an abort: an object whose `handleEvent` is called once, as EventTarget
 * calls a listener object. A query is its own listener, so listening makes no closure.
 */
export interface AbortListener {
  handleEvent(): void;
}

/** Makes the abort listeners of `signal`, a signal the library made, cheap to add and remove. */
export function shareAborts(signal: AbortSignal): void {
  if (shared.has(signal) || signal.aborted) return;
  const listeners: AbortListener[] = [];
  shared.set(signal, listeners);
  signal.addEventListener(
    'abort',
    () => {
      // As EventTarget does: a listener added during the dispatch is not called.
      const due = listeners.splice(0);
      for (const listener of due) {
        try {
          listener.handleEvent();
        } catch (err) {
          // One listener's exception must not cost the others their call.
          queueMicrotask(() => {
            throw err;
          });
        }
      }
    },
    { once: true },
  );
}

/**
 * Calls `listener` once when `signal` aborts (unless removed first). Returns the shared list
 * it joined (undefined for any other signal): hand it to {@link unlistenAbort}, which then
 * need not look the signal up again.
 */
export function listenAbort(signal: AbortSignal, listener: AbortListener): AbortListener[] | undefined {
  const listeners = shared.get(signal);
  if (listeners === undefined) signal.addEventListener('abort', listener, { once: true });
  else listeners.push(listener);
  return listeners;
}

/** Undoes {@link listenAbort}; `listeners`: what it returned. */
export function unlistenAbort(
  signal: AbortSignal,
  listener: AbortListener,
  listeners: AbortListener[] | undefined = shared.get(signal),
): void {
  if (listeners === undefined) {
    signal.removeEventListener('abort', listener);
    return;
  }
  // Most often the last one added (a watcher's one lookup at a time).
  if (listeners[listeners.length - 1] === listener) {
    listeners.pop();
    return;
  }
  const at = listeners.lastIndexOf(listener);
  if (at >= 0) listeners.splice(at, 1);
}

/** How many listeners wait on `signal`'s abort, shared or not. */
export function abortListeners(signal: AbortSignal): number {
  return shared.get(signal)?.length ?? getEventListeners(signal, 'abort').length;
}
