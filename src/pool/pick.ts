/** What a strategy sees of a member. */
export interface Candidate {
  id: string;
  priority: number;
  weight: number;
  pending: number;
}

/** How `acquire()` chooses among healthy members. */
export type Strategy = 'round-robin' | 'weighted' | 'least-pending';

/** A member's place in its priority level's schedule: due at `deadline`, stale once replaced. */
interface Turn<T> {
  member: T;
  deadline: number;
  generation: number;
}

/** One priority level of the weighted schedule: its members' turns, earliest first. */
interface Level<T> {
  members: number;
  heap: Turn<T>[];
  /** The deadline of the last turn taken: new members start from here, not from 0. */
  now: number;
}

/**
 * The healthy members, kept up to date as health and membership change, and picked from
 * without looking at them all: round-robin and least-pending in O(1), weighted in O(log n).
 * Picking runs on every `acquire()`; changes a few times a minute.
 */
export class Picker<T extends Candidate> {
  private readonly members: T[] = [];
  private readonly places = new Map<T, number>();
  private cursor = 0;
  // Weighted: a schedule per priority level (earliest deadline first, as Envoy's weighted
  // round-robin), and the generation of each member's live turn: a turn left in a heap by a
  // member since removed or reweighted has another, and is stale.
  private readonly levels = new Map<number, Level<T>>();
  private readonly generations = new Map<T, number>();
  private generation = 0;
  // The priority each member was scheduled under (its priority may have changed since).
  private readonly scheduledAt = new Map<T, number>();
  private lowest = Number.POSITIVE_INFINITY;

  constructor(private readonly random: () => number = Math.random) {}

  get size(): number {
    return this.members.length;
  }

  has(member: T): boolean {
    return this.places.has(member);
  }

  add(member: T): void {
    if (this.places.has(member)) return;
    this.places.set(member, this.members.length);
    this.members.push(member);
    this.schedule(member);
  }

  remove(member: T): void {
    const place = this.places.get(member);
    if (place === undefined) return;
    // Swap-remove: the last member takes the free place.
    const last = this.members.pop() as T;
    if (last !== member) {
      this.members[place] = last;
      this.places.set(last, place);
    }
    this.places.delete(member);
    this.unschedule(member);
  }

  /** Its weight or priority changed. */
  update(member: T): void {
    if (!this.places.has(member)) return;
    this.unschedule(member);
    this.schedule(member);
  }

  pick(strategy: Strategy): T | undefined {
    const { members } = this;
    if (members.length <= 1) return members[0];
    if (strategy === 'round-robin') return members[this.cursor++ % members.length];
    if (strategy === 'least-pending') return this.twoChoices();
    return this.earliestTurn();
  }

  // Two members at random, the one with fewer leases out: close to the least loaded of all
  // (the power of two random choices) at the cost of two.
  private twoChoices(): T {
    const { members } = this;
    const first = Math.floor(this.random() * members.length);
    let second = Math.floor(this.random() * (members.length - 1));
    if (second >= first) second++;
    const a = members[first] as T;
    const b = members[second] as T;
    return b.pending < a.pending ? b : a;
  }

  // SRV semantics (RFC 2782): the lowest priority present is used while it has members; within
  // it, each member's turns come 1/weight apart (a weight of 0 counts as 1).
  private earliestTurn(): T | undefined {
    const level = this.levels.get(this.lowest);
    if (level === undefined) return undefined;
    for (;;) {
      const turn = popMin(level.heap);
      if (turn === undefined) return undefined;
      if (turn.generation !== this.generations.get(turn.member)) continue;
      level.now = turn.deadline;
      turn.deadline += 1 / Math.max(1, turn.member.weight);
      pushTurn(level.heap, turn);
      return turn.member;
    }
  }

  private schedule(member: T): void {
    const { priority } = member;
    let level = this.levels.get(priority);
    if (level === undefined) {
      level = { members: 0, heap: [], now: 0 };
      this.levels.set(priority, level);
    }
    level.members++;
    this.scheduledAt.set(member, priority);
    this.lowest = Math.min(this.lowest, priority);
    const generation = ++this.generation;
    this.generations.set(member, generation);
    // It starts a turn from now: one just added takes no burst of catching up.
    pushTurn(level.heap, { member, deadline: level.now + 1 / Math.max(1, member.weight), generation });
  }

  private unschedule(member: T): void {
    // Its turn stays in the heap, stale from now: skipped when it comes up, dropped when the
    // heap is mostly stale.
    this.generations.delete(member);
    const priority = this.scheduledAt.get(member) as number;
    this.scheduledAt.delete(member);
    const level = this.levels.get(priority) as Level<T>;
    level.members--;
    if (level.members === 0) {
      this.levels.delete(priority);
      this.lowest = Math.min(Number.POSITIVE_INFINITY, ...this.levels.keys());
    } else if (level.heap.length > 2 * level.members + 16) this.compact(level);
  }

  private compact(level: Level<T>): void {
    const live = level.heap.filter((turn) => turn.generation === this.generations.get(turn.member));
    level.heap = [];
    for (const turn of live) pushTurn(level.heap, turn);
  }
}

/** Adds `turn` to a binary min-heap by deadline. */
function pushTurn<T>(heap: Turn<T>[], turn: Turn<T>): void {
  heap.push(turn);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if ((heap[parent] as Turn<T>).deadline <= turn.deadline) break;
    heap[i] = heap[parent] as Turn<T>;
    i = parent;
  }
  heap[i] = turn;
}

/** Takes the earliest turn out of a binary min-heap. */
function popMin<T>(heap: Turn<T>[]): Turn<T> | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (top === undefined || last === undefined || heap.length === 0) return top;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= heap.length) break;
    const right = left + 1;
    const child =
      right < heap.length && (heap[right] as Turn<T>).deadline < (heap[left] as Turn<T>).deadline ? right : left;
    if ((heap[child] as Turn<T>).deadline >= last.deadline) break;
    heap[i] = heap[child] as Turn<T>;
    i = child;
  }
  heap[i] = last;
  return top;
}
