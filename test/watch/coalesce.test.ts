import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cancelWake, SLOT_MS, wakeNear } from '../../src/watch/coalesce.js';

describe('wakeNear', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'queueMicrotask'] });
    vi.setSystemTime(1_000_000); // a slot boundary
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs tasks due in the same slot on one timer, at the nearest slot boundary', () => {
    const ran: string[] = [];
    wakeNear(995, () => ran.push(`a ${Date.now()}`));
    wakeNear(1004, () => ran.push(`b ${Date.now()}`));
    wakeNear(1015, () => ran.push(`c ${Date.now()}`));
    expect(vi.getTimerCount()).toBe(2);
    vi.advanceTimersByTime(999);
    expect(ran).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(ran).toEqual(['a 1001000', 'b 1001000']);
    vi.advanceTimersByTime(SLOT_MS);
    expect(ran).toEqual(['a 1001000', 'b 1001000', 'c 1001020']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cancels one task and keeps the others; the last cancel clears the timer', () => {
    const ran: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((name) => () => void ran.push(name)) as [() => void, () => void, () => void];
    const slotA = wakeNear(1000, a);
    const slotB = wakeNear(1000, b);
    expect(slotB).toBe(slotA);
    cancelWake(slotA, a);
    cancelWake(slotA, a);
    vi.advanceTimersByTime(1000);
    expect(ran).toEqual(['b']);
    const slotC = wakeNear(1000, c);
    cancelWake(slotB, b); // already ran: no effect on the new slot
    expect(vi.getTimerCount()).toBe(1);
    cancelWake(slotC, c);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(2000);
    expect(ran).toEqual(['b']);
  });

  it('runs every task of a slot even when one throws, and rethrows that error afterwards', () => {
    const ran: string[] = [];
    const rethrown: (() => void)[] = [];
    vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((callback) => {
      rethrown.push(callback);
    });
    wakeNear(1000, () => {
      throw new Error('listener failed');
    });
    wakeNear(1000, () => ran.push('second'));
    vi.advanceTimersByTime(1000);
    expect(ran).toEqual(['second']);
    expect(rethrown).toHaveLength(1);
    expect(() => rethrown[0]?.()).toThrow('listener failed');
  });
});
