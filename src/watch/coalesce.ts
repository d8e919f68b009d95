/**
 * Wake-ups shared between watchers. A process watching many services would otherwise
 * wake once per poll (1,000 services at 1 s: 1,000 wake-ups a second, each dear on a
 * busy or virtual machine); polls whose jittered times fall in the same slot of
 * {@link SLOT_MS} run on one timer instead, as the kernel's timer slack does.
 */
export const SLOT_MS = 20;

/** One timer for the tasks due at its boundary. */
export interface Slot {
  readonly at: number;
  readonly timer: NodeJS.Timeout;
  readonly tasks: Set<() => void>;
}

const slots = new Map<number, Slot>();

/**
 * Runs `task` at the slot boundary nearest `delay` ms from now (at most SLOT_MS / 2 off).
 * Returns the slot, for {@link cancelWake}: a handle shared by the slot's tasks, so that a
 * wake-up costs no object of its own. The timer never keeps the process alive.
 */
export function wakeNear(delay: number, task: () => void): Slot {
  const now = Date.now();
  const at = Math.max(now, Math.round((now + delay) / SLOT_MS) * SLOT_MS);
  let slot = slots.get(at);
  if (slot === undefined) {
    const tasks = new Set<() => void>();
    const timer = setTimeout(() => {
      slots.delete(at);
      for (const due of tasks) {
        try {
          due();
        } catch (err) {
          // One task's exception must not cost the others their wake-up.
          queueMicrotask(() => {
            throw err;
          });
        }
      }
    }, at - now);
    timer.unref();
    slot = { at, timer, tasks };
    slots.set(at, slot);
  }
  slot.tasks.add(task);
  return slot;
}

/** Takes `task` out of `slot` (nothing when it ran already); the last one out clears the timer. */
export function cancelWake(slot: Slot, task: () => void): void {
  const { at, tasks, timer } = slot;
  if (!tasks.delete(task) || tasks.size > 0) return;
  clearTimeout(timer);
  if (slots.get(at) === slot) slots.delete(at);
}
