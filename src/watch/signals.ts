/**
 * A controller that aborts when `parent` does, with its reason (at once when it already has).
 * `unlink()` stops following `parent`, which then keeps no listener of it: call it when the
 * work under the controller is over.
 */
export function follow(parent: AbortSignal | undefined): { controller: AbortController; unlink: () => void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) onAbort();
  parent?.addEventListener('abort', onAbort, { once: true });
  return { controller, unlink: () => parent?.removeEventListener('abort', onAbort) };
}

/**
 * Runs `work` with a signal that aborts after `ms` (with an error saying `what` timed out) or
 * when `parent` aborts, and settles by then whether `work` heeds its signal or not: a user's
 * callback that ignores it cannot hold up a round of probes or checks.
 */
export async function withDeadline<T>(
  work: (signal: AbortSignal) => T | Promise<T>,
  ms: number,
  what: string,
  parent?: AbortSignal,
): Promise<T> {
  const { controller, unlink } = follow(parent);
  const timer = setTimeout(() => controller.abort(new Error(`${what} timed out after ${ms} ms`)), ms);
  timer.unref();
  const aborted = new Promise<never>((_, reject) => {
    if (controller.signal.aborted) reject(controller.signal.reason);
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  aborted.catch(() => {});
  try {
    return await Promise.race([Promise.resolve().then(() => work(controller.signal)), aborted]);
  } finally {
    clearTimeout(timer);
    unlink();
  }
}
