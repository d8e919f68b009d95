import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstRepeatDelay, nextPollDelay, nominalBackoff, withJitter } from '../../src/watch/schedule.js';

const options = { interval: 5000, respectTtl: true, minInterval: 1000, maxInterval: 30_000, jitter: 0 };

describe('poll schedule', () => {
  it('follows the TTL, clamped to [minInterval, maxInterval]', () => {
    expect(nextPollDelay(5, options, 0.5)).toBe(5000);
    expect(nextPollDelay(0, options, 0.5)).toBe(1000);
    expect(nextPollDelay(3600, options, 0.5)).toBe(30_000);
  });

  it('uses interval when TTLs are not followed', () => {
    expect(nextPollDelay(3600, { ...options, respectTtl: false, interval: 7000 }, 0.5)).toBe(7000);
  });

  it('spreads delays by ±jitter, uniformly', () => {
    expect(withJitter(1000, 0.1, 0)).toBe(900);
    expect(withJitter(1000, 0.1, 0.5)).toBe(1000);
    expect(withJitter(1000, 0.1, 0.999999)).toBe(1100);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (base, jitter, random) => {
          const delay = withJitter(base, jitter, random);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(base * (1 - jitter)));
          expect(delay).toBeLessThanOrEqual(Math.ceil(base * (1 + jitter)));
        },
      ),
    );
  });

  it('gives 1,000 watchers started together distinct poll times', () => {
    const delays = Array.from({ length: 1000 }, () => nextPollDelay(5, { ...options, jitter: 0.1 }, Math.random()));
    expect(new Set(delays).size).toBeGreaterThan(500);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(4500);
    expect(Math.max(...delays)).toBeLessThanOrEqual(5500);
  });

  it('puts the first repeat anywhere in the period with jitter, at its end without', () => {
    const jittered = { ...options, jitter: 0.1 };
    expect(firstRepeatDelay(5, jittered, 0)).toBe(5000);
    expect(firstRepeatDelay(5, jittered, 0.75)).toBe(1250);
    expect(firstRepeatDelay(3600, { ...jittered, respectTtl: false, interval: 1000 }, 0.5)).toBe(500);
    expect(firstRepeatDelay(5, options, 0.75)).toBe(5000);
    // 1,000 watchers started together: spread over the whole period, in every tenth of it.
    const delays = Array.from({ length: 1000 }, () => firstRepeatDelay(5, jittered, Math.random()));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(5000);
    expect(new Set(delays.map((delay) => Math.min(9, Math.floor(delay / 500)))).size).toBe(10);
  });

  it('backs off exponentially from minInterval and never beyond maxInterval', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map((n) => nominalBackoff(n, { minInterval: 1000, maxInterval: 10_000 }))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000, 10_000,
    ]);
  });
});
