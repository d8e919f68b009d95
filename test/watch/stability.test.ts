import { describe, expect, it } from 'vitest';
import { Stability } from '../../src/watch/stability.js';

describe('Stability', () => {
  it('holds once two successful polls stableFor apart saw the same answer', () => {
    const s = new Stability();
    expect(s.holds(0)).toBe(false);
    s.succeeded(true, 0);
    expect(s.holds(0)).toBe(false); // one poll is no run
    s.succeeded(false, 3000);
    expect([s.holds(0), s.holds(3000), s.holds(3001)]).toEqual([true, true, false]);
    s.succeeded(false, 5000);
    expect(s.holds(5000)).toBe(true);
  });

  it('starts again at a change', () => {
    const s = new Stability();
    s.succeeded(true, 0);
    s.succeeded(false, 5000);
    s.succeeded(true, 6000);
    expect(s.holds(0)).toBe(false);
    s.succeeded(false, 7000);
    expect([s.holds(1000), s.holds(1001)]).toEqual([true, false]);
  });

  it('takes a failed poll as no evidence: the run breaks, and the next success starts one', () => {
    const s = new Stability();
    s.succeeded(true, 0);
    s.succeeded(false, 5000);
    s.failed();
    expect(s.holds(0)).toBe(false); // the latest poll failed
    s.succeeded(false, 6000);
    expect(s.holds(0)).toBe(false);
    s.succeeded(false, 11_000);
    expect([s.holds(5000), s.holds(5001)]).toEqual([true, false]);
  });
});
