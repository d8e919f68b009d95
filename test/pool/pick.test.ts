import { describe, expect, it } from 'vitest';
import { type Candidate, newPickState, pick } from '../../src/pool/pick.js';

const c = (id: string, extra: Partial<Candidate> = {}): Candidate => ({
  id,
  priority: 0,
  weight: 1,
  pending: 0,
  ...extra,
});

function counts(
  candidates: Candidate[],
  strategy: 'round-robin' | 'weighted' | 'least-pending',
  n: number,
): Record<string, number> {
  const state = newPickState();
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const chosen = pick(candidates, strategy, state);
    if (chosen) seen[chosen.id] = (seen[chosen.id] ?? 0) + 1;
  }
  return seen;
}

describe('pick', () => {
  it('round-robin visits every candidate in turn', () => {
    expect(counts([c('a'), c('b'), c('c')], 'round-robin', 30)).toEqual({ a: 10, b: 10, c: 10 });
  });

  it('weighted uses only the lowest priority, in proportion to weight', () => {
    const candidates = [
      c('a', { weight: 60 }),
      c('b', { weight: 20 }),
      c('c', { weight: 20 }),
      c('backup', { priority: 1, weight: 100 }),
    ];
    expect(counts(candidates, 'weighted', 100)).toEqual({ a: 60, b: 20, c: 20 });
    expect(counts([c('backup', { priority: 1 })], 'weighted', 3)).toEqual({ backup: 3 });
    expect(counts([c('x', { weight: 0 }), c('y', { weight: 0 })], 'weighted', 10)).toEqual({ x: 5, y: 5 });
  });

  it('least-pending picks the least loaded, rotating among ties', () => {
    expect(
      counts([c('a', { pending: 3 }), c('b', { pending: 1 }), c('c', { pending: 2 })], 'least-pending', 5),
    ).toEqual({ b: 5 });
    expect(counts([c('a'), c('b')], 'least-pending', 10)).toEqual({ a: 5, b: 5 });
  });

  it('gives nothing for no candidates', () => {
    expect(pick([], 'round-robin', newPickState())).toBeUndefined();
  });
});
