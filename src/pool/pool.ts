import { EventEmitter } from 'eventemitter3';
import pRetry from 'p-retry';
import { byId, type Peer } from '../watch/peer.js';
import { withDeadline } from '../watch/signals.js';
import { checkWatcher, type PeerWatcher } from '../watch/watcher.js';
import { checkInteger, describe, rejectNulls } from '../wire/check.js';
import { PoolError } from './errors.js';
import { Picker, type Strategy } from './pick.js';

/** Options of {@link createPeerPool}. */
export interface PeerPoolOptions<C> {
  /** The watcher whose peers the pool connects to. The pool does not close it. */
  watcher: PeerWatcher;
  /** Opens a connection to `peer`; should give up when `signal` aborts. */
  connect: (peer: Peer, signal: AbortSignal) => Promise<C>;
  /** Closes a connection. The pool waits for a returned promise on `close()`. */
  destroy: (conn: C) => unknown;
  /** Active health check: rejects, or resolves `false`, when `conn` is not healthy. */
  check?: (conn: C, signal: AbortSignal) => Promise<unknown>;
  /** Connections per peer. @default 1 */
  connectionsPerPeer?: number;
  /** How `acquire()` picks a peer. @default 'round-robin' */
  strategy?: Strategy;
  /** Ms between active checks of each connection (with `check`). @default 10000 */
  checkInterval?: number;
  /** Ms a check may take before it counts as failed. @default 2000 */
  checkTimeout?: number;
  /** Ms a `connect()` may take before it counts as failed. @default 5000 */
  connectTimeout?: number;
  /** First delay before reconnecting a failed connection; doubles with jitter up to 30 s. @default 500 */
  reconnectDelay?: number;
  /** Consecutive failed leases (`release(lease, { failed: true })`) that eject a peer. @default 5 */
  maxFailures?: number;
  /** First ejection's length in ms; each further ejection doubles it. @default 30000 */
  baseEjectionTime?: number;
  /** Longest ejection in ms. @default 300000 */
  maxEjectionTime?: number;
  /** Never eject more than this share of the members (0..100). @default 50 */
  maxEjectedPercent?: number;
}

/** A peer and one of its connections, lent by `acquire()` until `release()`. */
export interface Lease<C> {
  readonly peer: Peer;
  readonly conn: C;
}

/** Why a peer stopped being used. */
export type UnhealthyReason = 'connect' | 'check' | 'ejected' | 'left';

/** Events of a {@link PeerPool}. */
export interface PeerPoolEvents<C> {
  healthy: (peer: Peer) => void;
  unhealthy: (peer: Peer, reason: UnhealthyReason, error?: unknown) => void;
  connected: (peer: Peer, conn: C) => void;
  disconnected: (peer: Peer, conn: C) => void;
}

/** Counters of a pool at this moment. */
export interface PoolStats {
  members: number;
  healthy: number;
  ejected: number;
  connections: number;
  connecting: number;
  leased: number;
  waiting: number;
  draining: number;
}

/** One of a member's connections: the user's `conn` once open, and its leases out. */
interface Connection<C> {
  conn: C | undefined;
  state: 'connecting' | 'open' | 'closed';
  pending: number;
  // Set when the connection is replaced (its peer moved) or its peer left: destroy once idle.
  retired: boolean;
}

interface Member<C> {
  peer: Peer;
  // What the picker reads: the peer's id, priority and weight, and the leases out.
  id: string;
  priority: number;
  weight: number;
  connections: Connection<C>[];
  pending: number;
  failures: number;
  ejections: number;
  ejected: boolean;
  healthy: boolean;
  draining: boolean;
  controller: AbortController;
  checkTimer: NodeJS.Timeout | undefined;
  ejectionTimer: NodeJS.Timeout | undefined;
}

interface Waiter<C> {
  /** The one peer it waits for, by id; any healthy peer when undefined. */
  peer: string | undefined;
  resolve: (lease: Lease<C>) => void;
  reject: (error: PoolError) => void;
}

/** Options of {@link PeerPool.acquire}. */
export interface AcquireOptions {
  /** Lease a connection to this peer (or peer id) only, waiting while it is not healthy. */
  peer?: Peer | string;
  /** Stops waiting: the promise rejects with `ENOPEER`. */
  signal?: AbortSignal;
}

/** What {@link PeerPool.each} did with one member. */
export type EachResult<T> =
  | { peer: Peer; status: 'fulfilled'; value: T }
  | { peer: Peer; status: 'rejected'; reason: unknown };

const RECONNECT_CAP = 30_000;
const MAX_MS = 2_147_483_647;

/**
 * Keeps connections to every healthy member of a watched service and lends them out.
 * Made by {@link createPeerPool}.
 */
export class PeerPool<C> extends EventEmitter<PeerPoolEvents<C>> {
  private readonly options: Required<Omit<PeerPoolOptions<C>, 'check'>> & Pick<PeerPoolOptions<C>, 'check'>;
  private readonly members = new Map<string, Member<C>>();
  private readonly draining = new Set<Member<C>>();
  private readonly waiters = new Set<Waiter<C>>();
  private readonly leases = new WeakMap<Lease<C>, { member: Member<C>; connection: Connection<C> }>();
  private readonly work = new Set<Promise<unknown>>();
  // The healthy members, ready for acquire() to pick from without looking at them all.
  private readonly picker = new Picker<Member<C>>();
  private closing: Promise<void> | undefined;

  constructor(options: PeerPoolOptions<C>) {
    super();
    rejectNulls(options);
    checkWatcher(options.watcher);
    for (const key of ['connect', 'destroy'] as const) {
      if (typeof options[key] !== 'function')
        throw new TypeError(`${key}: expected a function, got ${describe(options[key])}`);
    }
    if (options.check !== undefined && typeof options.check !== 'function') {
      throw new TypeError(`check: expected a function, got ${describe(options.check)}`);
    }
    const strategy = options.strategy ?? 'round-robin';
    if (strategy !== 'round-robin' && strategy !== 'weighted' && strategy !== 'least-pending') {
      throw new TypeError(`strategy: expected 'round-robin', 'weighted' or 'least-pending', got ${describe(strategy)}`);
    }
    const baseEjectionTime = checkInteger('baseEjectionTime', options.baseEjectionTime ?? 30_000, 1, MAX_MS);
    this.options = {
      watcher: options.watcher,
      connect: options.connect,
      destroy: options.destroy,
      check: options.check,
      strategy,
      connectionsPerPeer: checkInteger('connectionsPerPeer', options.connectionsPerPeer ?? 1, 1, 1000),
      checkInterval: checkInteger('checkInterval', options.checkInterval ?? 10_000, 1, MAX_MS),
      checkTimeout: checkInteger('checkTimeout', options.checkTimeout ?? 2000, 1, MAX_MS),
      connectTimeout: checkInteger('connectTimeout', options.connectTimeout ?? 5000, 1, MAX_MS),
      reconnectDelay: checkInteger('reconnectDelay', options.reconnectDelay ?? 500, 1, MAX_MS),
      maxFailures: checkInteger('maxFailures', options.maxFailures ?? 5, 1, 1_000_000),
      baseEjectionTime,
      maxEjectionTime: checkInteger('maxEjectionTime', options.maxEjectionTime ?? 300_000, baseEjectionTime, MAX_MS),
      maxEjectedPercent: checkInteger('maxEjectedPercent', options.maxEjectedPercent ?? 50, 0, 100),
    };
    const { watcher } = options;
    watcher.on('peer-joined', this.onJoined);
    watcher.on('peer-left', this.onLeft);
    watcher.on('peer-updated', this.onUpdated);
    // A watcher that is already running: take its current peers now.
    for (const peer of watcher.peers()) this.onJoined(peer);
  }

  /** The pool's counters now. */
  get stats(): PoolStats {
    let ejected = 0;
    let connections = 0;
    let connecting = 0;
    let leased = 0;
    for (const member of this.members.values()) {
      if (member.ejected) ejected++;
      for (const connection of member.connections) {
        if (connection.state === 'open') connections++;
        if (connection.state === 'connecting') connecting++;
      }
      leased += member.pending;
    }
    for (const member of this.draining) leased += member.pending;
    return {
      members: this.members.size,
      healthy: this.picker.size,
      ejected,
      connections,
      connecting,
      leased,
      waiting: this.waiters.size,
      draining: this.draining.size,
    };
  }

  /**
   * Lends a healthy peer (or, with `peer`, that one peer) and one of its connections. Waits
   * while none is healthy, until one is or `signal` ends (then rejects with `ENOPEER`) or the
   * pool closes (`ECLOSED`). Give the lease back with {@link release}.
   *
   * @example
   * const lease = await pool.acquire({ peer: leader, signal: AbortSignal.timeout(1000) });
   */
  acquire(options: AcquireOptions = {}): Promise<Lease<C>> {
    if (this.closing) return Promise.reject(new PoolError('ECLOSED', 'the pool is closed'));
    let peer: string | undefined;
    try {
      peer = peerIdOf(options.peer);
    } catch (err) {
      return Promise.reject(err);
    }
    const lease = this.lendTo(peer);
    if (lease) return Promise.resolve(lease);
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(this.noPeer(signal.reason, peer));
    return new Promise((resolve, reject) => {
      const waiter: Waiter<C> = {
        peer,
        resolve: (value) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(value);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        this.waiters.delete(waiter);
        reject(this.noPeer(signal?.reason, peer));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  /**
   * Runs `fn` once for every healthy member, in parallel, each with a lease on one of its
   * connections, and releases each lease when its `fn` settles (a rejection counts as a
   * failed lease, as `release(lease, { failed: true })`). Resolves, once every `fn` has
   * settled, with one result per member, sorted by peer id: the fan-out of a write. `signal`
   * is handed to every `fn`.
   *
   * @example
   * const results = await pool.each((lease, signal) => put(lease.conn, key, value, signal));
   * const acked = results.filter((result) => result.status === 'fulfilled').length;
   */
  async each<T>(
    fn: (lease: Lease<C>, signal: AbortSignal | undefined) => T | Promise<T>,
    options: { signal?: AbortSignal } = {},
  ): Promise<EachResult<T>[]> {
    if (typeof fn !== 'function') throw new TypeError(`fn: expected a function, got ${describe(fn)}`);
    if (this.closing) throw new PoolError('ECLOSED', 'the pool is closed');
    const { signal } = options;
    signal?.throwIfAborted();
    const healthy = [...this.members.values()].filter((member) => member.healthy);
    healthy.sort((a, b) => byId(a.peer, b.peer));
    return Promise.all(
      healthy.map(async (member): Promise<EachResult<T>> => {
        const lease = this.lendMember(member);
        const { peer } = member;
        if (lease === undefined) return { peer, status: 'rejected', reason: this.noPeer(undefined, peer.id) };
        try {
          const value = await fn(lease, signal);
          this.release(lease);
          return { peer: lease.peer, status: 'fulfilled', value };
        } catch (reason) {
          this.release(lease, { failed: true });
          return { peer: lease.peer, status: 'rejected', reason };
        }
      }),
    );
  }

  /**
   * Gives a lease back. `failed: true` counts a failure against the peer: `maxFailures` in
   * a row eject it for a while (outlier detection); a success resets the count. Releasing
   * twice is harmless.
   */
  release(lease: Lease<C>, outcome: { failed?: boolean } = {}): void {
    const link = this.leases.get(lease);
    if (link === undefined) return;
    this.leases.delete(lease);
    const { member, connection } = link;
    connection.pending--;
    member.pending--;
    if (outcome.failed) this.recordFailure(member);
    else member.failures = 0;
    if (connection.retired && connection.pending === 0) {
      this.closeConnection(member, connection);
      member.connections = member.connections.filter((other) => other !== connection);
    }
    if (member.draining && member.pending === 0) this.finishDrain(member);
    this.serveWaiters();
  }

  /** Destroys every connection (leased ones too) and waits for them; rejects waiting acquires. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private readonly onJoined = (peer: Peer): void => {
    if (this.closing || this.members.has(peer.id)) return;
    const member: Member<C> = {
      peer,
      id: peer.id,
      priority: peer.priority ?? 0,
      weight: peer.weight ?? 1,
      connections: [],
      pending: 0,
      failures: 0,
      ejections: 0,
      ejected: false,
      healthy: false,
      draining: false,
      controller: new AbortController(),
      checkTimer: undefined,
      ejectionTimer: undefined,
    };
    this.members.set(peer.id, member);
    for (let i = 0; i < this.options.connectionsPerPeer; i++) this.openConnection(member);
    this.scheduleCheck(member);
  };

  private readonly onLeft = (peer: Peer): void => {
    const member = this.members.get(peer.id);
    if (member === undefined) return;
    this.members.delete(peer.id);
    this.stopMember(member);
    member.draining = true;
    this.setHealth(member, false, 'left');
    this.draining.add(member);
    if (member.pending === 0) this.finishDrain(member);
  };

  private readonly onUpdated = (peer: Peer, previous: Peer): void => {
    const member = this.members.get(peer.id);
    if (member === undefined) return;
    member.peer = peer;
    if (member.priority !== (peer.priority ?? 0) || member.weight !== (peer.weight ?? 1)) {
      member.priority = peer.priority ?? 0;
      member.weight = peer.weight ?? 1;
      this.picker.update(member);
    }
    if (peer.address === previous.address && peer.port === previous.port) return;
    // Same member at a new address (a restarted StatefulSet pod): connect to the new one now;
    // old connections close as soon as their leases come back. Failures and an ejection were
    // the old endpoint's: the new one starts with a clean record.
    member.controller.abort();
    member.controller = new AbortController();
    clearTimeout(member.ejectionTimer);
    member.ejectionTimer = undefined;
    member.ejected = false;
    member.failures = 0;
    member.ejections = 0;
    const leased: Connection<C>[] = [];
    for (const connection of member.connections) {
      connection.retired = true;
      if (connection.pending > 0 && connection.state === 'open') leased.push(connection);
      else this.closeConnection(member, connection);
    }
    member.connections = leased;
    for (let i = 0; i < this.options.connectionsPerPeer; i++) this.openConnection(member);
    this.refreshHealth(member, 'connect');
  };

  private openConnection(member: Member<C>, connection?: Connection<C>): void {
    const target: Connection<C> = connection ?? { conn: undefined, state: 'connecting', pending: 0, retired: false };
    if (connection === undefined) member.connections.push(target);
    target.state = 'connecting';
    const { signal } = member.controller;
    const attempt = () => this.connectOnce(member.peer, signal);
    const done = pRetry(attempt, {
      retries: Number.POSITIVE_INFINITY,
      factor: 2,
      minTimeout: this.options.reconnectDelay,
      maxTimeout: RECONNECT_CAP,
      randomize: true,
      unref: true,
      signal,
      onFailedAttempt: ({ error }) => {
        if (!signal.aborted) this.setHealth(member, member.healthy && this.hasOpenConnection(member), 'connect', error);
      },
      shouldRetry: () => !signal.aborted && !this.closing,
    }).then(
      (conn) => {
        if (signal.aborted || this.closing || target.retired) {
          this.destroyConn(member.peer, conn, false);
          return;
        }
        target.conn = conn;
        target.state = 'open';
        this.emit('connected', member.peer, conn);
        this.refreshHealth(member, 'connect');
      },
      () => {
        // Aborted: the member left, moved, or the pool closed.
        if (target.state === 'connecting') target.state = 'closed';
      },
    );
    this.track(done);
  }

  private async connectOnce(peer: Peer, memberSignal: AbortSignal): Promise<C> {
    try {
      return await withDeadline(
        (signal) => this.options.connect(peer, signal),
        this.options.connectTimeout,
        'connect',
        memberSignal,
      );
    } catch (err) {
      throw err instanceof Error ? err : new Error(String(err));
    }
  }

  private scheduleCheck(member: Member<C>): void {
    const { check } = this.options;
    if (check === undefined || member.draining || this.closing) return;
    member.checkTimer = setTimeout(() => {
      member.checkTimer = undefined;
      this.track(this.runChecks(member, check).finally(() => this.scheduleCheck(member)));
    }, this.options.checkInterval);
    member.checkTimer.unref();
  }

  private async runChecks(member: Member<C>, check: NonNullable<PeerPoolOptions<C>['check']>): Promise<void> {
    const open = member.connections.filter((connection) => connection.state === 'open' && !connection.retired);
    let allPassed = open.length > 0;
    await Promise.all(
      open.map(async (connection) => {
        const conn = connection.conn as C;
        let error: unknown;
        try {
          const result = await withDeadline((signal) => check(conn, signal), this.options.checkTimeout, 'check');
          if (result === false) error = new Error('check returned false');
        } catch (err) {
          error = err;
        }
        if (error === undefined || member.draining || this.closing || connection.conn !== conn) return;
        allPassed = false;
        // A dead connection: drop it and connect again, with backoff.
        connection.state = 'closed';
        connection.conn = undefined;
        this.destroyConn(member.peer, conn, true);
        this.setHealth(member, this.hasOpenConnection(member) && !member.ejected, 'check', error);
        if (!member.draining && !this.closing) this.openConnection(member, connection);
      }),
    );
    // A member that stays healthy earns back one step of its ejection backoff.
    if (allPassed && !member.ejected && member.failures === 0 && member.ejections > 0) member.ejections--;
  }

  private recordFailure(member: Member<C>): void {
    member.failures++;
    if (member.ejected || member.draining || member.failures < this.options.maxFailures) return;
    const ejected = [...this.members.values()].filter((m) => m.ejected).length;
    const allowed = Math.floor((this.members.size * this.options.maxEjectedPercent) / 100);
    // Ejecting too many members would pile the load on the rest: past the cap, keep using it.
    if (ejected + 1 > allowed) return;
    member.ejected = true;
    member.ejections++;
    const duration = Math.min(
      this.options.maxEjectionTime,
      this.options.baseEjectionTime * 2 ** (member.ejections - 1),
    );
    this.setHealth(member, false, 'ejected');
    member.ejectionTimer = setTimeout(() => {
      member.ejectionTimer = undefined;
      member.ejected = false;
      member.failures = 0;
      this.refreshHealth(member, 'ejected');
    }, duration);
    member.ejectionTimer.unref();
  }

  private hasOpenConnection(member: Member<C>): boolean {
    return member.connections.some((connection) => connection.state === 'open' && !connection.retired);
  }

  private refreshHealth(member: Member<C>, reason: UnhealthyReason): void {
    this.setHealth(member, !member.ejected && !member.draining && this.hasOpenConnection(member), reason);
  }

  private setHealth(member: Member<C>, healthy: boolean, reason: UnhealthyReason, error?: unknown): void {
    if (member.healthy === healthy) return;
    member.healthy = healthy;
    if (healthy) this.picker.add(member);
    else this.picker.remove(member);
    if (healthy) {
      this.emit('healthy', member.peer);
      this.serveWaiters();
    } else {
      this.emit('unhealthy', member.peer, reason, error);
    }
  }

  private lendTo(peer: string | undefined): Lease<C> | undefined {
    if (peer === undefined) return this.lend();
    const member = this.members.get(peer);
    return member?.healthy ? this.lendMember(member) : undefined;
  }

  private lend(): Lease<C> | undefined {
    const member = this.picker.pick(this.options.strategy);
    return member === undefined ? undefined : this.lendMember(member);
  }

  // A lease on the member's open connection with the fewest leases out.
  private lendMember(member: Member<C>): Lease<C> | undefined {
    let connection: Connection<C> | undefined;
    for (const candidate of member.connections) {
      if (candidate.state !== 'open' || candidate.retired) continue;
      if (connection === undefined || candidate.pending < connection.pending) connection = candidate;
    }
    if (connection === undefined) return undefined;
    connection.pending++;
    member.pending++;
    const lease: Lease<C> = { peer: member.peer, conn: connection.conn as C };
    this.leases.set(lease, { member, connection });
    return lease;
  }

  private serveWaiters(): void {
    for (const waiter of this.waiters) {
      const lease = this.lendTo(waiter.peer);
      if (lease === undefined) {
        // Nobody healthy: no other waiter for any peer can be served either.
        if (waiter.peer === undefined) return;
        continue;
      }
      this.waiters.delete(waiter);
      waiter.resolve(lease);
    }
  }

  private noPeer(cause: unknown, peer?: string): PoolError {
    if (peer !== undefined) {
      const member = this.members.get(peer);
      const state =
        member === undefined
          ? 'not a member'
          : member.ejected
            ? 'ejected'
            : this.hasOpenConnection(member)
              ? 'unhealthy'
              : 'not connected';
      return new PoolError('ENOPEER', `peer ${peer} is not healthy (${state})`, cause);
    }
    const stats = this.stats;
    return new PoolError(
      'ENOPEER',
      `no healthy peer before the signal ended (${stats.members} members: ${stats.healthy} healthy, ${stats.ejected} ejected, ${stats.connecting} connecting)`,
      cause,
    );
  }

  private stopMember(member: Member<C>): void {
    member.controller.abort();
    clearTimeout(member.checkTimer);
    clearTimeout(member.ejectionTimer);
    member.checkTimer = undefined;
    member.ejectionTimer = undefined;
  }

  private finishDrain(member: Member<C>): void {
    for (const connection of member.connections) this.closeConnection(member, connection);
    this.draining.delete(member);
  }

  private closeConnection(member: Member<C>, connection: Connection<C>): void {
    const { conn } = connection;
    connection.state = 'closed';
    connection.conn = undefined;
    if (conn !== undefined) this.destroyConn(member.peer, conn, true);
  }

  private destroyConn(peer: Peer, conn: C, announce: boolean): void {
    this.track(
      (async () => {
        try {
          await this.options.destroy(conn);
        } finally {
          if (announce) this.emit('disconnected', peer, conn);
        }
      })().catch(() => {}),
    );
  }

  private track(promise: Promise<unknown>): void {
    this.work.add(promise);
    void promise.finally(() => this.work.delete(promise));
  }

  private async shutdown(): Promise<void> {
    const { watcher } = this.options;
    watcher.off('peer-joined', this.onJoined);
    watcher.off('peer-left', this.onLeft);
    watcher.off('peer-updated', this.onUpdated);
    for (const waiter of this.waiters)
      waiter.reject(new PoolError('ECLOSED', 'the pool closed while waiting for a healthy peer'));
    this.waiters.clear();
    for (const member of [...this.members.values(), ...this.draining]) {
      this.stopMember(member);
      member.draining = true;
      for (const connection of member.connections) this.closeConnection(member, connection);
    }
    this.members.clear();
    this.draining.clear();
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
  }
}

function peerIdOf(peer: unknown): string | undefined {
  if (peer === undefined || typeof peer === 'string') return peer;
  const id = (peer as { id?: unknown } | null)?.id;
  if (typeof id !== 'string') throw new TypeError(`peer: expected a Peer or a peer id, got ${describe(peer)}`);
  return id;
}

/**
 * Keeps a connection to every healthy member of a watched headless service.
 *
 * @example
 * const pool = createPeerPool({
 *   watcher: watchPeers({ name: 'cache-headless', port: 'redis' }),
 *   connect: (peer, signal) => openClient(peer.address, peer.port, signal),
 *   destroy: (client) => client.quit(),
 *   check: (client) => client.ping(),
 * });
 * const lease = await pool.acquire({ signal: AbortSignal.timeout(1000) });
 * try { await lease.conn.get('key'); pool.release(lease); }
 * catch (err) { pool.release(lease, { failed: true }); throw err; }
 */
export function createPeerPool<C>(options: PeerPoolOptions<C>): PeerPool<C> {
  return new PeerPool(options);
}
