import { channel } from 'node:diagnostics_channel';
import { setMaxListeners } from 'node:events';
import { debuglog } from 'node:util';
import { EventEmitter } from 'eventemitter3';
import pRetry from 'p-retry';
import { checkBoolean, checkInteger, checkSignal, describe, rejectNulls } from '../wire/check.js';
import { DnsError, type DnsErrorCode } from '../wire/errors.js';
import { cancelWake, SLOT_MS, type Slot, wakeNear } from './coalesce.js';
import { type ChangedFields, diffPeers, mergeById, type PeerUpdate, sameList } from './diff.js';
import { type PeerQuery, type PeerQueryOptions, toPeerQuery } from './options.js';
import type { Peer } from './peer.js';
import { Poller, type PollOutcome } from './poll.js';
import { firstRepeatDelay, nextPollDelay, nominalBackoff, type ScheduleOptions } from './schedule.js';
import { isSelf, type SelfIdentity, selfIdentity } from './self.js';
import { Stability } from './stability.js';
import { decideOnPolls } from './wait.js';

/** Options of {@link watchPeers}: what to look up (as for `resolvePeers`) and how often. */
export interface WatchPeersOptions extends PeerQueryOptions {
  /** Poll period in ms when TTLs are not followed. @default 5000 */
  interval?: number;
  /** Follow the answer's smallest TTL, clamped to [minInterval, maxInterval]. @default true */
  respectTtl?: boolean;
  /** Shortest time between polls, and the first failure backoff, in ms. @default 1000 */
  minInterval?: number;
  /** Longest time between polls, and the failure backoff cap, in ms. @default 30000 */
  maxInterval?: number;
  /**
   * Spread of each delay, ±fraction (0..1), so that watchers do not poll in lockstep; with
   * jitter, the first poll after the first success comes at a random point of the period,
   * so watchers started together spread over it at once. @default 0.1
   */
  jitter?: number;
  /**
   * Consecutive polls that must find the service empty (NXDOMAIN/NODATA, or SRV targets that
   * all have no address) before every peer leaves; `leaveAfter` must have passed since the
   * first of them too. @default 2
   */
  confirmEmpty?: number;
  /**
   * Ms a peer must stay absent from answers before `peer-left` (hold-down against flapping),
   * and an empty service empty before its peers leave. Behind a node-local cache, set it
   * above the cache's negative TTL plus a poll (10 s or more; see docs/kubernetes.md).
   * @default 0
   */
  leaveAfter?: number;
}

/** Options of {@link PeerWatcher.settled}. */
export interface SettledOptions {
  /** Peers the set must hold (this process counts, unless the watcher excludes it). @default 1 */
  min?: number;
  /** Ms the answers must not have changed, across at least two successful polls. @default 5000 */
  stableFor?: number;
  /** Stops waiting: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** @internal What a poll came to, for whoever listens with `onPolled`. */
export interface PollReport {
  outcome: 'records' | 'empty' | 'failure';
  durationMs: number;
}

/** Why a peer left. `absent`: no longer in the answers. `empty`: the service has no ready pods. */
export type LeaveReason = 'absent' | 'empty';

/** Everything one poll changed. */
export interface PeerChange {
  joined: Peer[];
  left: Peer[];
  updated: PeerUpdate[];
  /** The whole set after the change, sorted by id. */
  peers: Peer[];
}

/** The events of a {@link PeerWatcher}. */
export interface PeerWatcherEvents {
  'peer-joined': (peer: Peer) => void;
  'peer-left': (peer: Peer, reason: LeaveReason) => void;
  /** Same id, other addresses, port, weight or priority: `changes` says which. */
  'peer-updated': (peer: Peer, previous: Peer, changes: ChangedFields) => void;
  /** A member missing from the latest answer, held by `leaveAfter` (its `absentSince` is set). */
  'peer-missing': (peer: Peer) => void;
  /** A held member back in the answers before it left. */
  'peer-returned': (peer: Peer) => void;
  changed: (change: PeerChange) => void;
  error: (error: DnsError) => void;
}

/** Counters of a watcher. */
export interface WatcherStats {
  polls: number;
  successes: number;
  failures: number;
  /** Failed polls by DnsError code. */
  failuresByCode: Partial<Record<DnsErrorCode, number>>;
  /** Answers that came truncated (TC=1) over UDP, each asked again over TCP. */
  truncations: number;
  /** Of those, the ones TCP then answered whole: fewer than `truncations` when TCP to the server fails. */
  tcpFallbacks: number;
  /** Queries sent by polls. */
  queries: number;
  /** `Date.now()` of the last successful poll. */
  lastSuccessAt: number | undefined;
  consecutiveFailures: number;
  /** Ms until the next poll as last scheduled (nominal, before p-retry's randomisation when backing off). */
  currentInterval: number;
}

/**
 * `headless-peers:poll`: one message per finished poll, with `name`, `outcome`
 * (`records`/`empty`/`failure`), `peers` (count), `queries`, `error` and `durationMs`.
 */
export const pollChannel = channel('headless-peers:poll');

const debug = debuglog('headless-peers');

// Stands for the poll that already failed when a backoff starts.
const ALREADY_FAILED = new Error('the poll before this backoff failed');

interface Settings extends ScheduleOptions {
  confirmEmpty: number;
  leaveAfter: number;
}

/**
 * Keeps the membership of a headless service current. Made by {@link watchPeers}.
 */
export class PeerWatcher extends EventEmitter<PeerWatcherEvents> {
  readonly stats: WatcherStats = {
    polls: 0,
    successes: 0,
    failures: 0,
    failuresByCode: {},
    truncations: 0,
    tcpFallbacks: 0,
    queries: 0,
    lastSuccessAt: undefined,
    consecutiveFailures: 0,
    currentInterval: 0,
  };

  private readonly query: PeerQuery;
  private readonly poller: Poller;
  private readonly settings: Settings;
  // The membership, sorted by id: what peers() returns and the next diff starts from.
  private members: Peer[] = [];
  private readonly absentSince = new Map<string, number>();
  private readonly closer = ((controller) => {
    // Every lookup in flight listens to it (64 at once for a big service's targets), and
    // users hand it to work of their own.
    setMaxListeners(0, controller.signal);
    return controller;
  })(new AbortController());
  // The closer's signal, read once: every lookup of every poll is given it.
  private readonly closeSignal = this.closer.signal;
  private readonly iterators = new Set<ChangeQueue>();
  private readonly readyState: {
    promise: Promise<Peer[]>;
    resolve: (peers: Peer[]) => void;
    reject: (err: Error) => void;
  };
  private readonly userSignal: AbortSignal | undefined;
  private emptyStreak = 0;
  // Whether successive answers are the same, for settled().
  private readonly stability = new Stability();
  // Who this process is: found when first needed.
  private self: SelfIdentity | undefined;
  // This process, when the peers leave it out.
  private readonly excluded: SelfIdentity | undefined;
  // Called after every poll, answered or failed (bootstrap() probes then).
  private readonly pollListeners = new Set<(report: PollReport) => void>();
  // performance.now() when the poll in flight (or the last one) started.
  private pollStartedAt = 0;
  // Date.now() of the first empty answer of the streak: a cache can serve one cached
  // NXDOMAIN to several polls, so the streak's length alone is no proof.
  private emptySince = 0;
  private lastTtl = 0;
  private succeeded = false;
  // The first poll on the schedule comes at a random point of the period, the others ±jitter.
  private spread = false;
  // The next poll's wake-up: a slot shared with other watchers, or a timer of its own.
  private wakeSlot: Slot | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  // One function for every wake-up of this watcher: scheduling a poll makes no closure.
  private readonly wake = () => {
    this.wakeSlot = undefined;
    this.wakeTimer = undefined;
    this.startCycle();
  };
  private cycle: AbortController | undefined;
  // Each cycle and refresh takes a generation; a stale one's completion schedules nothing.
  private generation = 0;
  private inFlight: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  // Set when close() begins, as the closer aborts: read on every poll, where the signal's
  // `aborted` getter costs a checked, megamorphic load on Node 20 (seen in perf profiles).
  private closed = false;

  constructor(options: WatchPeersOptions) {
    super();
    rejectNulls(options);
    const minInterval = checkInteger('minInterval', options.minInterval ?? 1000, 0, 2_147_483_647);
    const maxInterval = checkInteger('maxInterval', options.maxInterval ?? 30_000, 1, 2_147_483_647);
    if (minInterval > maxInterval) {
      throw new TypeError(`minInterval: ${minInterval} is above maxInterval ${maxInterval}`);
    }
    const jitter = options.jitter ?? 0.1;
    if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) {
      throw new TypeError(`jitter: expected a fraction in 0..1, got ${describe(jitter)}`);
    }
    checkBoolean('respectTtl', options.respectTtl);
    this.settings = {
      interval: checkInteger('interval', options.interval ?? 5000, 1, 2_147_483_647),
      respectTtl: options.respectTtl ?? true,
      minInterval,
      maxInterval,
      jitter,
      confirmEmpty: checkInteger('confirmEmpty', options.confirmEmpty ?? 2, 1, 1000),
      leaveAfter: checkInteger('leaveAfter', options.leaveAfter ?? 0, 0, 2_147_483_647),
    };
    this.query = toPeerQuery(options);
    if (this.query.excludeSelf) this.excluded = this.identity();
    this.poller = new Poller(this.query);
    let resolve: (peers: Peer[]) => void = () => {};
    let reject: (err: Error) => void = () => {};
    const promise = new Promise<Peer[]>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A watcher nobody awaits ready() on must not cause an unhandled rejection at close.
    promise.catch(() => {});
    this.readyState = { promise, resolve, reject };
    this.userSignal = options.signal;
    if (options.signal?.aborted) {
      queueMicrotask(() => void this.close());
    } else {
      options.signal?.addEventListener('abort', this.onAbort, { once: true });
      // Polls start on the next tick: no event can fire before handlers are attached.
      queueMicrotask(() => this.startCycle());
    }
  }

  /** Aborts when the watcher closes: hand it to work that should stop with it. */
  get signal(): AbortSignal {
    return this.closeSignal;
  }

  /**
   * Resolves with the peers of the first successful poll, after each was announced by
   * `peer-joined`. Rejects only when the watcher closes first.
   */
  ready(): Promise<Peer[]> {
    return this.readyState.promise;
  }

  /** The current peers, sorted by id. */
  peers(): Peer[] {
    return [...this.members];
  }

  /**
   * Whether `peer` is this process, by the `self` option (else `POD_NAME`/`HOSTNAME` and
   * `POD_IP`, else the host name and interface addresses).
   *
   * @example
   * const others = watcher.peers().filter((peer) => !watcher.isSelf(peer));
   */
  isSelf(peer: Peer): boolean {
    return isSelf(peer, this.identity());
  }

  private identity(): SelfIdentity {
    this.self ??= this.query.self ?? selfIdentity();
    return this.self;
  }

  /**
   * Resolves with the peers once the latest poll succeeded, they are at least `min`, and the
   * answers have not changed for `stableFor` ms across at least two successful polls (a failed
   * poll is no evidence: the count starts again after it). Members held by `leaveAfter` are
   * missing from the answers, so they are not among these peers. Rejects with the signal's
   * reason on abort, and when the watcher closes. While it waits, it keeps the process alive.
   *
   * @example
   * const peers = await watcher.settled({ min: 3, stableFor: 5000, signal: AbortSignal.timeout(60_000) });
   */
  settled(options: SettledOptions = {}): Promise<Peer[]> {
    const { min, stableFor } = checkSettled(options);
    const closed = () => this.closedError('settled');
    return decideOnPolls(this, () => this.settledPeers(min, stableFor), options.signal, closed);
  }

  /**
   * @internal The peers of the latest answer (members held by `leaveAfter` left out) when they
   * have settled as {@link settled} means it, else undefined.
   */
  settledPeers(min: number, stableFor: number): Peer[] | undefined {
    if (this.closed || !this.stability.holds(stableFor)) return undefined;
    const present =
      this.absentSince.size === 0 ? this.peers() : this.members.filter((peer) => !this.absentSince.has(peer.id));
    return present.length >= min ? present : undefined;
  }

  /** @internal Whether this watcher leaves this process out of its peers. */
  get excludesSelf(): boolean {
    return this.query.excludeSelf;
  }

  /** @internal Calls `listener` after every poll, answered or failed; returns what stops it. */
  onPolled(listener: (report: PollReport) => void): () => void {
    const entry = (report: PollReport) => listener(report);
    this.pollListeners.add(entry);
    return () => this.pollListeners.delete(entry);
  }

  /** The service name watched, as given (`name`, or built from `service` and `namespace`). */
  get service(): string {
    return this.query.name;
  }

  /**
   * Polls now (after a poll in flight, if any) and resolves with the peers; rejects with
   * the poll's DnsError, which is also emitted as `error`.
   */
  async refresh(): Promise<Peer[]> {
    if (this.closed) throw this.closedError('refresh');
    this.stopCycle();
    const generation = this.generation;
    await this.inFlight?.catch(() => {});
    try {
      await this.pollOnce();
    } catch (err) {
      const error = this.failed(err);
      // The backoff goes on from where the failures in a row left it, not from minInterval.
      if (generation === this.generation && !this.closed) this.backOff(generation);
      throw error;
    }
    if (generation === this.generation) this.scheduleNext();
    return this.peers();
  }

  /** Stops polling, cancels a poll in flight, ends iterators; rejects a pending `ready()`. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Yields each `changed` object from now until the watcher closes. */
  [Symbol.asyncIterator](): AsyncIterableIterator<PeerChange> {
    const queue = new ChangeQueue(() => this.iterators.delete(queue));
    if (this.closed) queue.end();
    else this.iterators.add(queue);
    return queue;
  }

  private readonly onAbort = () => {
    void this.close();
  };

  private async shutdown(): Promise<void> {
    this.userSignal?.removeEventListener('abort', this.onAbort);
    this.closed = true;
    this.closer.abort(new DnsError('ECANCELLED', 'watcher closed', { hostname: this.query.name }));
    this.stopCycle();
    await this.inFlight?.catch(() => {});
    if (this.query.ownsClient) this.query.client.close();
    if (!this.succeeded)
      this.readyState.reject(
        new DnsError('ECANCELLED', 'watcher closed before its first successful poll', { hostname: this.query.name }),
      );
    for (const queue of this.iterators) queue.end();
    this.iterators.clear();
  }

  private stopCycle(): void {
    this.generation++;
    this.cycle?.abort();
    this.cycle = undefined;
    this.stopWake();
  }

  // A poll on the schedule. A success schedules the next one; a failure backs off.
  private startCycle(): void {
    if (this.closed) return;
    const generation = ++this.generation;
    this.pollOnce().then(
      () => {
        if (generation === this.generation) this.scheduleNext();
      },
      (err: unknown) => {
        if (generation !== this.generation || this.closed) return;
        this.failed(err);
        this.backOff(generation);
      },
    );
  }

  // After a failed poll: poll again with exponential backoff and jitter until one
  // succeeds, up to maxInterval, then back to the normal schedule. p-retry's schedule: each
  // wait is the first × 2^(n-1) × [1, 2), capped; the first is the nominal backoff of the
  // failures in a row so far (minInterval after one), so that a failed refresh() in the
  // middle of an outage does not start the backoff over.
  private backOff(generation: number): void {
    const cycle = new AbortController();
    this.cycle = cycle;
    const first = nominalBackoff(this.stats.consecutiveFailures, this.settings);
    this.stats.currentInterval = first;
    pRetry(
      (attempt) => {
        // The failed poll happened already: attempt 1 only makes p-retry wait its first delay.
        if (attempt === 1) throw ALREADY_FAILED;
        return this.pollOnce();
      },
      {
        retries: Number.POSITIVE_INFINITY,
        factor: 2,
        minTimeout: Math.max(1, first),
        maxTimeout: this.settings.maxInterval,
        randomize: true,
        unref: true,
        signal: cycle.signal,
        onFailedAttempt: ({ error }) => {
          // p-retry reports its own abort (refresh or close stopped this cycle) as a failed attempt.
          if (error === ALREADY_FAILED || cycle.signal.aborted) return;
          this.failed(error);
          this.stats.currentInterval = nominalBackoff(this.stats.consecutiveFailures, this.settings);
        },
        shouldRetry: () => !this.closed && !cycle.signal.aborted,
      },
    ).then(
      () => {
        if (generation === this.generation) this.scheduleNext();
      },
      () => {
        // Only a cancelled cycle, or a programming error p-retry will not retry, ends here.
        if (generation === this.generation && !this.closed) this.scheduleCycle(this.settings.maxInterval);
      },
    );
  }

  private scheduleNext(): void {
    const delay = this.spread ? nextPollDelay : firstRepeatDelay;
    this.spread = true;
    this.scheduleCycle(delay(this.lastTtl, this.settings, Math.random()));
  }

  private scheduleCycle(delay: number): void {
    if (this.closed) return;
    this.stopWake();
    this.stats.currentInterval = delay;
    // With jitter the time is random anyway: snapped to a slot shared with other watchers
    // (at most SLOT_MS / 2 off) when the jitter window is much wider than a slot. Without
    // jitter, polls run exactly on time. Idle time between polls never keeps the process alive.
    if (delay * this.settings.jitter >= 2 * SLOT_MS) {
      this.wakeSlot = wakeNear(delay, this.wake);
    } else {
      this.wakeTimer = setTimeout(this.wake, delay);
      this.wakeTimer.unref();
    }
  }

  private stopWake(): void {
    if (this.wakeSlot !== undefined) cancelWake(this.wakeSlot, this.wake);
    if (this.wakeTimer !== undefined) clearTimeout(this.wakeTimer);
    this.wakeSlot = undefined;
    this.wakeTimer = undefined;
  }

  // A promise chain rather than an async function: a step fewer on every poll.
  private pollOnce(): Promise<void> {
    const started = performance.now();
    this.pollStartedAt = started;
    this.stats.polls++;
    const run: Promise<void> = this.poller.poll(this.closeSignal).then(
      (outcome) => {
        this.pollEnded(run);
        this.apply(outcome);
        this.report(started, outcome, undefined);
      },
      (err: unknown) => {
        this.pollEnded(run);
        this.report(started, undefined, err);
        throw err;
      },
    );
    this.inFlight = run;
    return run;
  }

  // A poll ended, answered or failed: its queries counted, no longer in flight.
  private pollEnded(run: Promise<void>): void {
    this.stats.queries = this.poller.queries;
    if (this.inFlight === run) this.inFlight = undefined;
  }

  private failed(err: unknown): DnsError {
    const error =
      err instanceof DnsError
        ? err
        : new DnsError('EBADRESP', 'poll failed', { hostname: this.query.name, cause: err });
    if (this.closed && error.code === 'ECANCELLED') return error;
    this.stability.failed();
    if (error.truncated) this.stats.truncations++;
    this.stats.failures++;
    this.stats.consecutiveFailures++;
    this.stats.failuresByCode[error.code] = (this.stats.failuresByCode[error.code] ?? 0) + 1;
    debug('poll of %s failed (%d in a row): %s', this.query.name, this.stats.consecutiveFailures, error.message);
    // Membership stays as it was: a failure is never an empty set.
    this.emit('error', error);
    this.polled('failure');
    return error;
  }

  // Tells whoever waits for polls (settled(), bootstrap(), metrics) that one ended, and how.
  private polled(outcome: PollReport['outcome']): void {
    if (this.pollListeners.size === 0) return;
    const report: PollReport = { outcome, durationMs: performance.now() - this.pollStartedAt };
    for (const listener of [...this.pollListeners]) this.deliver(() => listener(report));
  }

  private closedError(what: string): DnsError {
    return new DnsError('ECANCELLED', `watcher closed (${what})`, { hostname: this.query.name });
  }

  private report(started: number, outcome: PollOutcome | undefined, err: unknown): void {
    if (!pollChannel.hasSubscribers) return;
    pollChannel.publish({
      name: this.query.name,
      outcome: outcome === undefined ? 'failure' : outcome.kind,
      peers: this.members.length,
      queries: outcome?.queries,
      error: err,
      durationMs: performance.now() - started,
    });
  }

  private apply(outcome: PollOutcome): void {
    if (this.closed) return;
    const now = Date.now();
    this.stats.successes++;
    this.stats.consecutiveFailures = 0;
    this.stats.lastSuccessAt = now;
    this.stats.truncations += outcome.truncations;
    this.stats.tcpFallbacks += outcome.truncations;
    this.lastTtl = outcome.ttl;
    if (outcome.kind === 'empty') this.applyEmpty(outcome.reason, now);
    else this.applyRecords(outcome.peers, now);
  }

  // An empty answer: every member is missing from it, and all leave once confirmEmpty polls
  // agree and leaveAfter has passed since the first.
  private applyEmpty(reason: string, now: number): void {
    const change: PeerChange = { joined: [], left: [], updated: [], peers: [] };
    const missing: Peer[] = [];
    this.stability.succeeded(this.emptyStreak === 0, now);
    if (this.emptyStreak++ === 0) this.emptySince = now;
    const { confirmEmpty, leaveAfter } = this.settings;
    debug(
      '%s is empty (%s), %d of %d polls, %d of %d ms',
      this.query.name,
      reason,
      this.emptyStreak,
      confirmEmpty,
      now - this.emptySince,
      leaveAfter,
    );
    if (this.emptyStreak >= confirmEmpty && now - this.emptySince >= leaveAfter) {
      change.left = this.members;
      this.members = [];
      this.absentSince.clear();
    } else {
      for (const peer of this.members) if (this.markMissing(peer, now)) missing.push(peer);
    }
    this.announce(change, 'empty', NO_PEERS, missing);
  }

  private applyRecords(peers: Peer[], now: number): void {
    const wasEmpty = this.emptyStreak > 0;
    this.emptyStreak = 0;
    const { excluded } = this;
    const polled = excluded === undefined ? peers : peers.filter((peer) => !isSelf(peer, excluded));
    // A steady service: the poller gave every member again, the same objects (their TTLs
    // updated) in the same order, and none is held. Nothing to compare, nothing to announce.
    if (this.succeeded && this.absentSince.size === 0 && sameList(this.members, polled)) {
      this.stability.succeeded(wasEmpty, now);
      this.polled('records');
      return;
    }
    const change: PeerChange = { joined: [], left: [], updated: [], peers: [] };
    const diff = diffPeers(this.members, polled);
    const { kept } = diff;
    // An unchanged peer stays the same object from poll to poll, its TTL that of the latest
    // answer: a stable identity for users, and a steady membership leaves no garbage that
    // outlives the interval (which a generational collector would copy twice).
    for (let i = 0; i < kept.length; i++) (kept[i] as Peer).ttl = (polled[i] as Peer).ttl;
    change.joined = diff.joined;
    change.updated = diff.updated;
    // Held members in the answer again; then missing ones, which leave once absent for
    // leaveAfter and are held (still members) until then.
    const returned: Peer[] = [];
    if (this.absentSince.size > 0) {
      for (const peer of diff.same) if (this.markReturned(peer)) returned.push(peer);
      for (const { peer, previous } of diff.updated) if (this.markReturned(previous)) returned.push(peer);
    }
    const missing: Peer[] = [];
    const held: Peer[] = [];
    for (const peer of diff.missing) {
      if (this.markMissing(peer, now)) missing.push(peer);
      if (now - (this.absentSince.get(peer.id) ?? now) >= this.settings.leaveAfter) {
        this.absentSince.delete(peer.id);
        change.left.push(peer);
      } else {
        held.push(peer);
      }
    }
    if (change.joined.length + change.updated.length + change.left.length > 0) {
      this.members = held.length === 0 ? kept : mergeById(kept, held);
    }
    // Whether the answer differs from the one before, for settled().
    const answerChanged =
      wasEmpty || !this.succeeded || diff.joined.length + diff.updated.length + returned.length + missing.length > 0;
    this.stability.succeeded(answerChanged, now);
    // A member that went missing and left in the same poll (no leaveAfter) only left.
    const stillHeld = missing.filter((peer) => this.absentSince.has(peer.id));
    this.announce(change, 'absent', returned, stillHeld);
  }

  // A member absent from this answer: true when it was not missing before.
  private markMissing(peer: Peer, now: number): boolean {
    if (this.absentSince.has(peer.id)) return false;
    this.absentSince.set(peer.id, now);
    peer.absentSince = now;
    return true;
  }

  // A member in this answer again: true when it was missing.
  private markReturned(peer: Peer): boolean {
    if (!this.absentSince.delete(peer.id)) return false;
    delete peer.absentSince;
    return true;
  }

  private deliver(emit: () => void): void {
    try {
      emit();
    } catch (error) {
      rethrowLater(error);
    }
  }

  private announce(change: PeerChange, reason: LeaveReason, returned: readonly Peer[], missing: readonly Peer[]): void {
    const first = !this.succeeded;
    this.succeeded = true;
    const changed = change.joined.length + change.left.length + change.updated.length > 0;
    if (changed) change.peers = this.peers();
    if (changed || returned.length + missing.length > 0) {
      debug(
        '%s: %d joined, %d updated, %d returned, %d missing, %d left (%s), %d peers',
        this.query.name,
        change.joined.length,
        change.updated.length,
        returned.length,
        missing.length,
        change.left.length,
        reason,
        this.members.length,
      );
    }
    for (const peer of change.joined) this.deliver(() => this.emit('peer-joined', peer));
    for (const { peer, previous, changes } of change.updated) {
      this.deliver(() => this.emit('peer-updated', peer, previous, changes));
    }
    for (const peer of returned) this.deliver(() => this.emit('peer-returned', peer));
    for (const peer of missing) this.deliver(() => this.emit('peer-missing', peer));
    for (const peer of change.left) this.deliver(() => this.emit('peer-left', peer, reason));
    if (changed) {
      this.deliver(() => this.emit('changed', change));
      for (const queue of this.iterators) queue.push(change);
    }
    if (first) this.readyState.resolve(this.peers());
    this.polled(reason === 'empty' ? 'empty' : 'records');
  }
}

const NO_PEERS: readonly Peer[] = Object.freeze([]);

/** Checks the options of `settled()` and `bootstrap()`, throwing a TypeError that names the bad one. */
export function checkSettled(options: SettledOptions): { min: number; stableFor: number } {
  rejectNulls(options);
  checkSignal(options.signal);
  return {
    min: checkInteger('min', options.min ?? 1, 1, 100_000),
    stableFor: checkInteger('stableFor', options.stableFor ?? 5000, 0, 2_147_483_647),
  };
}

/**
 * A throwing listener must not leave the membership half-applied or be mistaken for a
 * failed poll: the error is rethrown on its own, as an uncaught exception, after the
 * watcher's state is consistent.
 */
function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/** The async iterator's buffer: changes wait here until the consumer asks. */
class ChangeQueue implements AsyncIterableIterator<PeerChange> {
  private readonly buffered: PeerChange[] = [];
  private waiting: ((result: IteratorResult<PeerChange>) => void) | undefined;
  private done = false;

  constructor(private readonly onReturn: () => void) {}

  push(change: PeerChange): void {
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: change, done: false });
    } else {
      this.buffered.push(change);
    }
  }

  end(): void {
    this.done = true;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = undefined;
  }

  next(): Promise<IteratorResult<PeerChange>> {
    const change = this.buffered.shift();
    if (change !== undefined) return Promise.resolve({ value: change, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<PeerChange>> {
    this.end();
    this.buffered.length = 0;
    this.onReturn();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<PeerChange> {
    return this;
  }
}

/**
 * Checks a `watcher` option: a watcher made by {@link watchPeers}, judged by its shape (a class
 * check would fail for a watcher from another copy of this package).
 */
export function checkWatcher(value: unknown): PeerWatcher {
  if (!isPeerWatcher(value)) {
    throw new TypeError(`watcher: expected a PeerWatcher from watchPeers(), got ${describe(value)}`);
  }
  return value;
}

function isPeerWatcher(value: unknown): value is PeerWatcher {
  const watcher = value as Partial<PeerWatcher> | null | undefined;
  return (
    typeof watcher === 'object' &&
    watcher !== null &&
    typeof watcher.peers === 'function' &&
    typeof watcher.ready === 'function' &&
    typeof watcher.on === 'function' &&
    typeof watcher.off === 'function' &&
    typeof watcher.settledPeers === 'function' &&
    typeof watcher.onPolled === 'function' &&
    typeof watcher.isSelf === 'function' &&
    watcher.signal instanceof AbortSignal
  );
}

/**
 * Watches a headless service and keeps its membership current.
 *
 * @example
 * const watcher = watchPeers({ name: 'kafka-headless', port: 'kafka' });
 * watcher.on('peer-joined', (peer) => connect(peer));
 * watcher.on('peer-left', (peer, reason) => disconnect(peer));
 * await watcher.ready();
 */
export function watchPeers(options: WatchPeersOptions): PeerWatcher {
  return new PeerWatcher(options);
}
