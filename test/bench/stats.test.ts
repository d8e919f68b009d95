import { describe, expect, it } from 'vitest';
import { median, quantile } from '../../bench/stats.js';

describe('bench statistics', () => {
  it('takes the mean of the two middle values as the median of an even count', () => {
    // The targets are medians of eight per-round ratios: the upper middle value alone would
    // read a run as meeting 1.5× when its two middle rounds were 1.49× and 1.51×.
    expect(median([1.51, 1.2, 1.49, 1.9])).toBeCloseTo(1.5, 10);
    expect(median([1.2, 1.49, 1.52, 1.9, 1.3, 1.6, 1.1, 2])).toBeCloseTo((1.49 + 1.52) / 2, 10);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([])).toBeNaN();
  });

  it('reads a quantile as the value below which that share of the values lies', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(quantile(values, 0.99)).toBe(100);
    expect(quantile(values, 0.5)).toBe(51);
    expect(quantile(values, 0)).toBe(1);
  });
});
