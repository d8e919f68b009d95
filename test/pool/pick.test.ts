import { describe, expect, it } from 'vitest';
import { type Candidate, Picker, type Strategy } from '../../src/pool/pick.js';

const c = (id: string, extra: Partial<Candidate> = {}): Candidate => ({
  id,
  priority: 0,
  weight: 1,
  pending: 0,
  ...extra,
});

function picker(members: Candidate[], random?: () => number): Picker<Candidate> {
  const made = new Picker<Candidate>(random);
  for (const member of members) made.add(member);
  return made;
}

function counts(from: Picker<Candidate>, strategy: Strategy, n: number): Record<string, number> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const chosen = from.pick(strategy);
    if (chosen) seen[chosen.id] = (seen[chosen.id] ?? 0) + 1;
  }
  return seen;
}

describe('Picker', () => {
  it('round-robin visits every member in turn', () => {
    expect(counts(picker([c('a'), c('b'), c('c')]), 'round-robin', 30)).toEqual({ a: 10, b: 10, c: 10 });
  });

  it('weighted uses only the lowest priority present, in proportion to weight', () => {
    const backup = c('backup', { priority: 1, weight: 100 });
    const weighted = picker([c('a', { weight: 60 }), c('b', { weight: 20 }), c('c', { weight: 20 }), backup]);
    expect(counts(weighted, 'weighted', 100)).toEqual({ a: 60, b: 20, c: 20 });
    expect(counts(picker([c('only', { priority: 1 })]), 'weighted', 3)).toEqual({ only: 3 });
    expect(counts(picker([c('x', { weight: 0 }), c('y', { weight: 0 })]), 'weighted', 10)).toEqual({ x: 5, y: 5 });
  });

  it('weighted follows members going, coming back, and changing weight or priority', () => {
    const a = c('a', { weight: 3 });
    const b = c('b', { weight: 1 });
    const backup = c('backup', { priority: 1 });
    const weighted = picker([a, b, backup]);
    expect(counts(weighted, 'weighted', 40)).toEqual({ a: 30, b: 10 });
    weighted.remove(a);
    weighted.remove(b);
    expect(counts(weighted, 'weighted', 5)).toEqual({ backup: 5 });
    weighted.add(b);
    expect(counts(weighted, 'weighted', 5)).toEqual({ b: 5 });
    weighted.add(a);
    b.weight = 3;
    weighted.update(b);
    expect(counts(weighted, 'weighted', 60)).toEqual({ a: 30, b: 30 });
    a.priority = 2;
    weighted.update(a);
    expect(counts(weighted, 'weighted', 10)).toEqual({ b: 10 });
  });

  it('least-pending takes the less loaded of two members drawn at random', () => {
    // Draws: the first of 3 (index), then one of the 2 others: (a, c), (c, a), (b, c).
    const draws = [0, 0.5, 0.9, 0, 0.5, 0.9];
    const sequence = () => draws.shift() ?? 0;
    const members = [c('a', { pending: 3 }), c('b', { pending: 1 }), c('c', { pending: 2 })];
    const drawn = picker(members, sequence);
    const three = [drawn.pick('least-pending'), drawn.pick('least-pending'), drawn.pick('least-pending')];
    expect(three.map((member) => member?.id)).toEqual(['c', 'c', 'b']);
    // At random: the most loaded never, the least loaded whenever it is drawn (2 times in 3).
    const seen = counts(picker(members), 'least-pending', 3000);
    expect(seen.a).toBeUndefined();
    expect(seen.b ?? 0).toBeGreaterThan(1800);
    const even = counts(picker([c('x'), c('y')]), 'least-pending', 2000);
    expect(Math.abs((even.x ?? 0) - (even.y ?? 0))).toBeLessThan(300);
  });

  it('never picks a member removed, and nothing when none is left', () => {
    const a = c('a');
    const b = c('b');
    const both = picker([a, b]);
    both.remove(a);
    for (const strategy of ['round-robin', 'weighted', 'least-pending'] as const) {
      expect(counts(both, strategy, 4)).toEqual({ b: 4 });
    }
    both.remove(b);
    expect([both.size, both.pick('weighted'), both.pick('round-robin')]).toEqual([0, undefined, undefined]);
  });
});
