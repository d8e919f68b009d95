/** What a strategy sees of a member. */
export interface Candidate {
  id: string;
  priority: number;
  weight: number;
  pending: number;
}

/** How `acquire()` chooses among healthy members. */
export type Strategy = 'round-robin' | 'weighted' | 'least-pending';

/**
 * Chooses one of `candidates` (sorted by id). Pure apart from `state`, which carries the
 * rotation between calls. O(n) in the number of candidates.
 */
export function pick(candidates: readonly Candidate[], strategy: Strategy, state: PickState): Candidate | undefined {
  if (candidates.length === 0) return undefined;
  if (strategy === 'least-pending') {
    let best: Candidate | undefined;
    // Ties rotate, so equal members share the load instead of the first taking it all.
    const start = state.cursor++ % candidates.length;
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[(start + i) % candidates.length] as Candidate;
      if (best === undefined || candidate.pending < best.pending) best = candidate;
    }
    return best;
  }
  if (strategy === 'weighted') return smoothWeighted(lowestPriority(candidates), state);
  return candidates[state.cursor++ % candidates.length];
}

/** Rotation state kept between picks. */
export interface PickState {
  cursor: number;
  /** Smooth weighted round-robin's running scores, by member id. */
  current: Map<string, number>;
}

export function newPickState(): PickState {
  return { cursor: 0, current: new Map() };
}

// SRV semantics (RFC 2782): only the lowest priority present is used while it has members.
function lowestPriority(candidates: readonly Candidate[]): Candidate[] {
  let lowest = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) lowest = Math.min(lowest, candidate.priority);
  return candidates.filter((candidate) => candidate.priority === lowest);
}

// nginx's smooth weighted round-robin: deterministic, spreads picks evenly in proportion
// to weight. A weight of 0 counts as 1 so such members are still used when alone.
function smoothWeighted(candidates: readonly Candidate[], state: PickState): Candidate | undefined {
  let total = 0;
  let best: Candidate | undefined;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const candidate of candidates) {
    const weight = Math.max(1, candidate.weight);
    total += weight;
    const score = (state.current.get(candidate.id) ?? 0) + weight;
    state.current.set(candidate.id, score);
    if (score > bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  if (best !== undefined) state.current.set(best.id, bestScore - total);
  return best;
}
