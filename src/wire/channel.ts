import { type AbortListener, listenAbort, unlistenAbort } from './abort.js';
import { DnsError } from './errors.js';
import { randomId } from './ids.js';
import { type EncodedQuestion, judgeResponse, u16, type Verdict, withId } from './message.js';
import type { Nameserver } from './nameserver.js';

/**
 * Where the outcome of one query goes: the verdict on its answer, or the error that ended
 * it. Called once, synchronously, from inside the channel that settled it (answering a
 * message, a timer, a failing connection): a waiter that asks again must do so from a
 * later microtask, when the channel is done.
 */
export interface Waiter {
  done(outcome: Verdict | DnsError): void;
}

const NOBODY: Waiter = { done: () => {} };

/**
 * A query that was waiting on a connection the server closed after answering others on it
 * (idle, or after each answer): it never reached a server that meant to answer it, so the
 * transport asks it once more on a fresh connection.
 */
class Orphaned extends DnsError {}

/**
 * Drops the front of a queue read from index `head` once it is spent: at once when all of
 * it is, otherwise now and then, when more than half of it and over 1,024 items are.
 * Returns the new head.
 */
function compact<T>(queue: T[], head: number): number {
  if (head === queue.length) {
    queue.length = 0;
    return 0;
  }
  if (head > 1024 && head * 2 > queue.length) {
    queue.splice(0, head);
    return 0;
  }
  return head;
}

/** The error of a query to `server` cancelled by `signal`. */
function cancelledBy(signal: AbortSignal | undefined, question: EncodedQuestion, server: Nameserver): DnsError {
  return new DnsError('ECANCELLED', 'query cancelled', {
    hostname: question.name,
    server: server.label,
    cause: signal?.reason,
  });
}

/**
 * A query waiting on a channel: a row in the channel's table, and the listener on its
 * signal (`handleEvent`), so that listening makes no closure per query.
 */
class Pending implements AbortListener {
  malformed: string | undefined = undefined;
  settled = false;
  /** The shared list of abort listeners it joined, if its signal's are shared. */
  listeners: AbortListener[] | undefined = undefined;

  constructor(
    readonly id: number,
    readonly question: EncodedQuestion,
    readonly deadline: number,
    public waiter: Waiter,
    public signal: AbortSignal | undefined,
    private readonly channel: Channel,
  ) {}

  handleEvent(): void {
    this.channel.cancel(this, cancelledBy(this.signal, this.question, this.channel.server));
  }
}

/**
 * One connection to one nameserver that carries many queries at once, each under its own
 * random ID: the table of waiting queries, their deadlines and cancellation. The UDP and
 * TCP channels add how a message goes out and how the connection ends.
 *
 * Every query on a channel has the same timeout, so deadlines come in order: one timer
 * for the oldest deadline serves them all, instead of a timer per query.
 */
export abstract class Channel {
  readonly pending = new Map<number, Pending>();
  private readonly deadlines: Pending[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  uses = 0;
  /** Queries answered on this channel. */
  answered = 0;
  closed = false;
  /** Called each time a query on this channel settles: answered, failed or cancelled. */
  onSettle: (() => void) | undefined;

  constructor(
    readonly server: Nameserver,
    private readonly timeout: number,
    private readonly onClose: (channel: Channel) => void,
  ) {}

  /** Writes one query message. */
  protected abstract transmit(message: Buffer): void;
  /** Lets the process exit (false) or not (true) while nothing waits. */
  protected abstract hold(waiting: boolean): void;
  /** Ends the connection. */
  protected abstract shutdown(): void;
  /** Called when the last waiting query settled. */
  protected idle(): void {}
  /** Called when queries on this channel went unanswered until their deadline. */
  protected timedOut(): void {}
  /** True when new queries must go to a fresh channel. */
  abstract get spent(): boolean;

  /**
   * Sends `question` under a fresh ID; `waiter` gets the verdict on its answer, or an
   * error by `deadline` (ms since the epoch; a timeout from now unless given, never
   * earlier than the deadline of a query sent before it on this channel).
   */
  ask(question: EncodedQuestion, signal: AbortSignal | undefined, waiter: Waiter, deadline?: number): void {
    let id = randomId();
    while (this.pending.has(id)) id = randomId();
    const message = withId(question, id);
    const entry = new Pending(id, question, deadline ?? Date.now() + this.timeout, waiter, signal, this);
    if (signal !== undefined) entry.listeners = listenAbort(signal, entry);
    if (this.pending.size === 0) this.hold(true);
    this.pending.set(id, entry);
    this.deadlines.push(entry);
    if (this.timer === undefined) this.arm();
    this.uses++;
    this.transmit(message);
  }

  /** A message that came in: settles the query it answers, if any. */
  protected deliver(buf: Buffer): void {
    if (buf.length < 2) return;
    const entry = this.pending.get(u16(buf, 0));
    if (entry === undefined) return;
    const { question } = entry;
    const verdict = judgeResponse(buf, entry.id, question);
    if (verdict.kind === 'foreign') return;
    if (verdict.kind === 'malformed') {
      entry.malformed = verdict.reason;
      return;
    }
    this.answered++;
    this.settle(entry, verdict);
  }

  /** Settles a query its signal cancelled. */
  cancel(entry: Pending, error: DnsError): void {
    this.settle(entry, error);
  }

  private settle(entry: Pending, outcome: Verdict | DnsError): void {
    if (entry.settled) return;
    entry.settled = true;
    this.pending.delete(entry.id);
    if (entry.signal !== undefined) unlistenAbort(entry.signal, entry, entry.listeners);
    if (this.pending.size === 0 && !this.closed) {
      this.hold(false);
      this.idle();
    }
    const { waiter } = entry;
    // The entry may wait in the deadline queue for up to a timeout more: it must not keep
    // its waiter (and what that holds) or the signal alive that long.
    entry.waiter = NOBODY;
    entry.signal = undefined;
    entry.listeners = undefined;
    this.dropSettled();
    this.onSettle?.();
    waiter.done(outcome);
  }

  // Settled queries leave the front of the deadline queue now, not when their deadline
  // passes: answers mostly come in order, so a query's row dies young instead of living a
  // whole timeout (and being copied into the old generation on the way).
  private dropSettled(): void {
    const { deadlines } = this;
    while (this.head < deadlines.length && (deadlines[this.head] as Pending).settled) this.head++;
    this.head = compact(deadlines, this.head);
  }

  private arm(): void {
    this.dropSettled();
    const next = this.deadlines[this.head];
    if (next === undefined || this.closed) {
      this.timer = undefined;
      return;
    }
    this.timer = setTimeout(() => this.expire(), Math.max(0, next.deadline - Date.now()));
    // The connection, held while queries wait, keeps the process alive; the timer need not.
    this.timer.unref();
  }

  private expire(): void {
    // Date.now(), like setTimeout, follows fake clocks in users' tests.
    const now = Date.now();
    let expired = false;
    while (this.head < this.deadlines.length) {
      const entry = this.deadlines[this.head] as Pending;
      if (!entry.settled && entry.deadline > now) break;
      this.head++;
      if (entry.settled) continue;
      if (!expired) {
        expired = true;
        this.timedOut();
      }
      const details = { hostname: entry.question.name, server: this.server.label };
      this.settle(
        entry,
        entry.malformed === undefined
          ? new DnsError('ETIMEOUT', `no answer${this.describe()} within ${this.timeout} ms`, details)
          : new DnsError('EBADRESP', `bad answer${this.describe()}: ${entry.malformed}`, details),
      );
    }
    this.arm();
  }

  /** How errors name the transport: '' for UDP, ' over TCP'. */
  protected describe(): string {
    return '';
  }

  /**
   * Rejects every waiting query with `code` and ends the connection. `orphaned`: the
   * server closed the connection; the queries may be asked again elsewhere.
   */
  fail(code: 'ECONNREFUSED' | 'EBADRESP' | 'ECANCELLED', message: string, cause: unknown, orphaned = false): void {
    const Failure = orphaned ? Orphaned : DnsError;
    for (const entry of [...this.pending.values()]) {
      this.settle(
        entry,
        new Failure(code, message, { hostname: entry.question.name, server: this.server.label, cause }),
      );
    }
    this.close();
  }

  /** Fails every waiting query with what the socket reported: ECONNREFUSED as such, else EBADRESP. */
  protected socketFailed(transport: 'UDP' | 'TCP', err: NodeJS.ErrnoException): void {
    this.fail(err.code === 'ECONNREFUSED' ? 'ECONNREFUSED' : 'EBADRESP', `${transport} ${err.code ?? 'error'}`, err);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.shutdown();
    this.onClose(this);
  }
}

/** Opens a channel to `server`; `onClose` runs once it has closed. */
export type OpenChannel = (server: Nameserver, onClose: (channel: Channel) => void) => Channel;

/**
 * A query waiting for its turn to be sent to a nameserver that has `limit` in flight, and
 * the listener on its signal until it is sent; then the channel's waiter for it.
 */
class Queued implements AbortListener, Waiter {
  listening = false;
  finished = false;
  listeners: AbortListener[] | undefined = undefined;

  constructor(
    readonly question: EncodedQuestion,
    readonly signal: AbortSignal | undefined,
    /** When its attempt ends, sent or not (its timeout counts from when it was asked). */
    readonly deadline: number,
    readonly waiter: Waiter,
    readonly server: Nameserver,
    private readonly transport: Transport,
  ) {}

  handleEvent(): void {
    this.transport.finish(this, cancelledBy(this.signal, this.question, this.server));
  }

  done(outcome: Verdict | DnsError): void {
    this.transport.finish(this, outcome);
  }

  unlisten(): void {
    if (this.listening && this.signal !== undefined) unlistenAbort(this.signal, this, this.listeners);
    this.listening = false;
  }
}

/**
 * The waiter of a query on a connection the server may close after answering others on
 * it: a query orphaned so is asked once more, on a fresh connection.
 */
class Resend implements Waiter {
  constructor(
    private readonly transport: Transport,
    private readonly server: Nameserver,
    private readonly question: EncodedQuestion,
    private readonly signal: AbortSignal | undefined,
    private readonly waiter: Waiter,
  ) {}

  done(outcome: Verdict | DnsError): void {
    if (!(outcome instanceof Orphaned)) {
      this.waiter.done(outcome);
      return;
    }
    // Once the closing channel is done with its other queries.
    queueMicrotask(() => this.transport.askAgain(this.server, this.question, this.signal, this.waiter, outcome));
  }
}

/** Queries to one nameserver: how many are out, and those waiting to go (from `head`). */
interface Line {
  inFlight: number;
  waiting: Queued[];
  head: number;
  draining: boolean;
}

/** How a transport treats queries beyond what it sends at once. */
export interface Limits {
  /** Queries in flight to one nameserver at once; more wait their turn. */
  inFlight: number;
  /** The attempt's timeout, in ms: it counts from when a query is asked, waiting included. */
  timeout: number;
}

/**
 * The channel in use for each nameserver, replaced when spent or closed. With `resend`, a
 * query orphaned by a server closing its connection is asked once more on a new one. With
 * `limits`, at most `limits.inFlight` queries are out to one nameserver at once and the rest
 * wait in order: a burst of datagrams bigger than a socket buffer holds would lose some, and
 * each lost one costs a whole timeout.
 */
export class Transport {
  private readonly current = new Map<string, Channel>();
  private readonly all = new Set<Channel>();
  private readonly lines = new Map<string, Line>();
  private closed = false;

  constructor(
    private readonly open: OpenChannel,
    private readonly resend = false,
    private readonly limits?: Limits,
  ) {}

  /** Asks `server`: `waiter` gets the verdict on its answer, or a DnsError. */
  exchange(server: Nameserver, question: EncodedQuestion, signal: AbortSignal | undefined, waiter: Waiter): void {
    const { limits } = this;
    if (limits === undefined) {
      this.send(server, question, signal, waiter);
      return;
    }
    const line = this.lineFor(server);
    if (line.inFlight < limits.inFlight && line.head === line.waiting.length) {
      line.inFlight++;
      this.send(server, question, signal, waiter);
      return;
    }
    const queued = new Queued(question, signal, Date.now() + limits.timeout, waiter, server, this);
    if (signal !== undefined) {
      queued.listeners = listenAbort(signal, queued);
      queued.listening = true;
    }
    line.waiting.push(queued);
    // Room already (the queue held only cancelled queries): the oldest go now.
    if (line.inFlight < limits.inFlight) this.drain(server, line);
  }

  /** {@link exchange} as a promise of the verdict, rejected with the DnsError. */
  request(server: Nameserver, question: EncodedQuestion, signal: AbortSignal | undefined): Promise<Verdict> {
    return new Promise<Verdict>((resolve, reject) =>
      this.exchange(server, question, signal, {
        done: (outcome) => (outcome instanceof DnsError ? reject(outcome) : resolve(outcome)),
      }),
    );
  }

  private send(
    server: Nameserver,
    question: EncodedQuestion,
    signal: AbortSignal | undefined,
    waiter: Waiter,
    deadline?: number,
  ): void {
    const asked = this.resend ? new Resend(this, server, question, signal, waiter) : waiter;
    this.channelFor(server).ask(question, signal, asked, deadline);
  }

  /** Asks an orphaned query once more on a fresh channel, unless it is over by now. */
  askAgain(
    server: Nameserver,
    question: EncodedQuestion,
    signal: AbortSignal | undefined,
    waiter: Waiter,
    orphaned: DnsError,
  ): void {
    if (this.closed || signal?.aborted) {
      waiter.done(orphaned);
      return;
    }
    try {
      this.channelFor(server).ask(question, signal, waiter);
    } catch (cause) {
      // From a microtask: a failure here must reach the query, not the event loop.
      waiter.done(
        new DnsError('EBADRESP', 'unexpected failure', { hostname: question.name, server: server.label, cause }),
      );
    }
  }

  private lineFor(server: Nameserver): Line {
    let line = this.lines.get(server.label);
    if (line === undefined) {
      line = { inFlight: 0, waiting: [], head: 0, draining: false };
      this.lines.set(server.label, line);
    }
    return line;
  }

  // One query to `server` settled: the next waiting one may go. Sent from a microtask, not
  // from inside the settling channel, which may be failing all its queries and closing.
  private settled(server: Nameserver, line: Line): void {
    line.inFlight--;
    if (line.head === line.waiting.length || line.draining) return;
    line.draining = true;
    queueMicrotask(() => {
      line.draining = false;
      this.drain(server, line);
    });
  }

  private drain(server: Nameserver, line: Line): void {
    const limit = this.limits?.inFlight ?? Number.POSITIVE_INFINITY;
    const now = Date.now();
    while (line.inFlight < limit && line.head < line.waiting.length) {
      const queued = line.waiting[line.head++] as Queued;
      if (queued.finished) continue;
      if (queued.deadline <= now) {
        this.finish(
          queued,
          new DnsError('ETIMEOUT', `not sent within ${this.limits?.timeout} ms: ${limit} queries to it in flight`, {
            hostname: queued.question.name,
            server: server.label,
          }),
        );
        continue;
      }
      line.inFlight++;
      // Sent in the order they came, so their deadlines stay in order on the channel; the
      // wait counts against the timeout. From here on the channel watches the signal.
      queued.unlisten();
      this.send(server, queued.question, queued.signal, queued, queued.deadline);
    }
    line.head = compact(line.waiting, line.head);
  }

  /** Settles a waiting query: answered after it was sent, failed, or cancelled. */
  finish(queued: Queued, outcome: Verdict | DnsError): void {
    if (queued.finished) return;
    queued.finished = true;
    queued.unlisten();
    queued.waiter.done(outcome);
  }

  private channelFor(server: Nameserver): Channel {
    let channel = this.current.get(server.label);
    if (channel === undefined || channel.closed || channel.spent) {
      if (channel !== undefined && !channel.closed && channel.pending.size === 0) channel.close();
      channel = this.open(server, (closed) => {
        this.all.delete(closed);
        if (this.current.get(server.label) === closed) this.current.delete(server.label);
      });
      if (this.limits !== undefined) {
        // The server's line, found once per channel rather than once per settled query.
        const line = this.lineFor(server);
        channel.onSettle = () => this.settled(server, line);
      }
      this.current.set(server.label, channel);
      this.all.add(channel);
    }
    return channel;
  }

  /** Rejects every waiting query with ECANCELLED and closes every channel. */
  close(reason?: unknown): void {
    this.closed = true;
    for (const [label, line] of this.lines) {
      const waiting = line.waiting.slice(line.head);
      line.waiting = [];
      line.head = 0;
      for (const queued of waiting) {
        this.finish(
          queued,
          new DnsError('ECANCELLED', 'client closed', { hostname: queued.question.name, server: label, cause: reason }),
        );
      }
    }
    for (const channel of [...this.all]) channel.fail('ECANCELLED', 'client closed', reason);
    this.current.clear();
  }
}
