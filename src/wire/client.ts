import { Transport, type Waiter } from './channel.js';
import { checkInteger, checkName, describe, rejectNulls } from './check.js';
import { type QueryMessage, queryChannel } from './diagnostics.js';
import { DnsError } from './errors.js';
import {
  answersFor,
  canonicalName,
  DEFAULT_UDP_PAYLOAD_SIZE,
  type EncodedQuestion,
  encodeQuestion,
  minTtl,
  negativeTtl,
  type QueryType,
  type Response,
  type Verdict,
} from './message.js';
import { type Nameserver, parseNameserver } from './nameserver.js';
import { type DnsRecord, isDnsRecord, type RecordOf } from './records.js';
import { readResolvConf } from './resolv-conf.js';
import { TcpChannel } from './tcp.js';
import { UdpChannel } from './udp.js';

export type { QueryType } from './message.js';

// Datagrams out to one nameserver at once; more wait their turn. Measured against BIND on
// loopback: 200 queries at once answered in 20 ms, 400 at once lost datagrams to a full
// socket buffer and took 2 s (a timeout) to finish.
const UDP_IN_FLIGHT = 128;

/** Options of {@link DnsClient}. */
export interface DnsClientOptions {
  /**
   * Nameservers to ask, as `'10.96.0.10'`, `'127.0.0.1:5353'` or `'[::1]:5353'`.
   * @default the `nameserver` lines of /etc/resolv.conf
   */
  nameservers?: readonly string[];
  /**
   * Suffixes tried for short names, as a pod's resolver does. The client only keeps them;
   * `resolvePeers` and `watchPeers` apply them.
   * @default the `search` line of /etc/resolv.conf
   */
  search?: readonly string[];
  /**
   * Names with fewer dots than this are tried with the search suffixes first.
   * @default `options ndots` of /etc/resolv.conf, else 1
   */
  ndots?: number;
  /**
   * Milliseconds to wait for an answer, per attempt.
   * @default `options timeout` of /etc/resolv.conf, else 2000
   */
  timeout?: number;
  /**
   * Tries for one question in all, rotating over the nameservers.
   * @default `options attempts` × nameservers of /etc/resolv.conf, else 3
   */
  attempts?: number;
  /**
   * EDNS0 UDP payload size offered to the server (512..65535).
   * @default 1232
   */
  udpPayloadSize?: number;
  /** Where the defaults come from. @default '/etc/resolv.conf' */
  resolvConf?: string;
}

/** A classified answer: records, or an authoritative "nothing" (NXDOMAIN/NODATA). */
export interface DnsResult {
  /** The name asked, canonical (lower-case, no trailing dot). */
  name: string;
  type: QueryType;
  /** `'NOERROR'` or `'NXDOMAIN'`: failures reject instead. */
  rcode: string;
  /** `records`: answers hold records of `type`; `nxdomain` / `nodata`: authoritatively none. */
  status: 'records' | 'nxdomain' | 'nodata';
  /** Records of the asked type for the asked name (following CNAMEs). */
  answers: DnsRecord[];
  /**
   * The Additional section's records of the types {@link DnsRecord} describes (OPT and others
   * left out); decoded when first read. When it does not decode cleanly it reads as empty
   * (the answer itself was validated).
   */
  readonly additionals: DnsRecord[];
  /** AA flag. */
  authoritative: boolean;
  /** The UDP answer came with TC=1 (so this one was asked again over TCP). */
  truncated: boolean;
  /** Answered over TCP. */
  tcp: boolean;
  /** The nameserver that answered (`host:port`). */
  server: string;
  /** Smallest TTL of the answers, or the negative-caching TTL for NXDOMAIN/NODATA. */
  ttl: number;
}

/**
 * A DnsResult whose Additional section is decoded only if somebody reads it: most answers'
 * Additional section is just OPT. (A getter on the class, not on each object: defining a
 * property per result cost more than the decoding it saved.)
 */
class Result implements DnsResult {
  readonly authoritative: boolean;

  constructor(
    readonly name: string,
    readonly type: QueryType,
    readonly rcode: string,
    readonly status: 'records' | 'nxdomain' | 'nodata',
    readonly answers: DnsRecord[],
    private readonly message: Response,
    readonly tcp: boolean,
    readonly truncated: boolean,
    readonly server: string,
    readonly ttl: number,
  ) {
    this.authoritative = message.authoritative;
  }

  get additionals(): DnsRecord[] {
    // dns-packet's decoded records, of the types DnsRecord describes.
    return this.message.additionals().filter((record) => isDnsRecord(record)) as unknown as DnsRecord[];
  }

  /** The plain fields, Additional records included, for logs and JSON. */
  toJSON(): Omit<DnsResult, never> {
    const { name, type, rcode, status, answers, authoritative, truncated, tcp, server, ttl, additionals } = this;
    return { name, type, rcode, status, answers, additionals, authoritative, truncated, tcp, server, ttl };
  }
}

/** An SRV record as `resolveSrv` returns it. */
export interface SrvRecord {
  /** Canonical target name (lower-case, no trailing dot). */
  name: string;
  port: number;
  priority: number;
  weight: number;
  ttl: number;
}

/** Per-query options. */
export interface QueryOptions {
  signal?: AbortSignal | undefined;
  /**
   * Keep this question's encoding for the next time it is asked. Turn it off for names that
   * come and go (SRV targets, pods' reverse names), so the cache holds only what is asked
   * again and again.
   * @default true
   */
  remember?: boolean;
  /**
   * Ask over TCP from the start, on one pipelined connection per nameserver that is kept
   * while in use (and closed after 1 s idle). For many lookups at once: a few writes and
   * reads carry them all, where UDP costs a datagram each way per lookup. A query left
   * waiting when the server closes the connection is asked once more on a new one.
   * @default false
   */
  tcp?: boolean;
}

/** How a query's promise is resolved, whatever its method returns. */
type Settle = (value: unknown) => void;

/**
 * One query from the call to its outcome: the question, its signal, its transport, the
 * attempt under way, and the caller's promise, settled with the result as the method
 * called shapes it. Over UDP it waits on the channel itself: an answer settles the
 * caller's promise from the message that brought it, with no promise in between.
 */
class QueryPlan implements Waiter {
  attempt = 0;
  /** The nameserver (its index) asked by this attempt. */
  index = 0;

  constructor(
    private readonly received: (plan: QueryPlan, outcome: Verdict | DnsError) => void,
    readonly question: EncodedQuestion,
    readonly signal: AbortSignal | undefined,
    readonly tcp: boolean,
    private readonly shape: ((result: DnsResult) => unknown) | undefined,
    private readonly resolve: Settle,
    readonly reject: (error: unknown) => void,
  ) {}

  done(outcome: Verdict | DnsError): void {
    this.received(this, outcome);
  }

  /** Settles the caller's promise with `result`, shaped (a shape may reject it instead). */
  answer(result: DnsResult): void {
    const { shape } = this;
    try {
      this.resolve(shape === undefined ? result : shape(result));
    } catch (err) {
      this.reject(err);
    }
  }
}

// The limit depends on the server and on the length of the target names (docs/kubernetes.md).
const TOO_BIG =
  'answer too big for one DNS message, even over TCP: 65,535 bytes hold about 930 SRV targets ' +
  '(BIND, Knot DNS; 710 on PowerDNS; fewer with names longer than 50 characters) or 4,000 addresses';

const MAX_CACHED_QUESTIONS = 4096;
const QUERY_TYPES: ReadonlySet<string> = new Set(['A', 'AAAA', 'SRV', 'PTR']);

/** Counters since the client was made. */
export interface DnsClientStats {
  queries: number;
  truncations: number;
  tcpFallbacks: number;
  failures: number;
}

/**
 * A small stub resolver: UDP with EDNS0, TCP on truncation, random IDs, strict response
 * matching, nameserver rotation, classified errors.
 *
 * @example
 * const client = new DnsClient({ nameservers: ['127.0.0.1:5353'] });
 * const records = await client.resolveSrv('_http._tcp.web.default.svc.cluster.local');
 * client.close();
 */
export class DnsClient {
  readonly nameservers: readonly string[];
  readonly search: readonly string[];
  readonly ndots: number;
  readonly timeout: number;
  readonly attempts: number;
  readonly udpPayloadSize: number;
  readonly stats: DnsClientStats = { queries: 0, truncations: 0, tcpFallbacks: 0, failures: 0 };

  private readonly servers: readonly Nameserver[];
  private readonly udp: Transport;
  private readonly tcp: Transport;
  private readonly questions = new Map<QueryType, Map<string, EncodedQuestion>>();
  private isClosed = false;
  // Rotation starts from the last server that answered, as resolvers with `rotate` off do.
  private preferred = 0;

  constructor(options: DnsClientOptions = {}) {
    rejectNulls(options, 'DnsClient options');
    const needConf =
      options.nameservers === undefined ||
      options.search === undefined ||
      options.ndots === undefined ||
      options.timeout === undefined ||
      options.attempts === undefined;
    const conf = needConf ? readResolvConf(options.resolvConf) : undefined;
    const nameservers = options.nameservers ?? conf?.nameservers ?? [];
    if (!Array.isArray(nameservers) || nameservers.length === 0) {
      throw new TypeError(`nameservers: expected a non-empty array of addresses, got ${describe(nameservers)}`);
    }
    this.servers = nameservers.map((value) => parseNameserver(value));
    this.nameservers = this.servers.map((server) => server.label);
    this.search = validateSearch(options.search ?? conf?.search ?? []);
    this.ndots = checkInteger('ndots', options.ndots ?? conf?.ndots ?? 1, 0, 15);
    this.timeout = checkInteger('timeout', options.timeout ?? conf?.timeout ?? 2000, 1, 600_000);
    const confAttempts = conf?.attempts === undefined ? undefined : conf.attempts * this.servers.length;
    this.attempts = checkInteger('attempts', options.attempts ?? confAttempts ?? 3, 1, 100);
    this.udpPayloadSize = checkInteger(
      'udpPayloadSize',
      options.udpPayloadSize ?? DEFAULT_UDP_PAYLOAD_SIZE,
      512,
      65535,
    );
    this.udp = new Transport((server, onClose) => new UdpChannel(server, this.timeout, onClose), false, {
      inFlight: UDP_IN_FLIGHT,
      timeout: this.timeout,
    });
    this.tcp = new Transport((server, onClose) => new TcpChannel(server, this.timeout, onClose), true);
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Asks one question for exactly `name` (no search list). Resolves with records or an
   * authoritative NXDOMAIN/NODATA; rejects with a {@link DnsError} when no server gave
   * a usable answer within `attempts`.
   */
  query(name: string, type: QueryType, options: QueryOptions = NO_OPTIONS): Promise<DnsResult> {
    return this.ask(name, type, options, undefined);
  }

  // A query whose caller gets its result as `shape` makes it (as it is, without one).
  private ask<T>(
    name: string,
    type: QueryType,
    options: QueryOptions = NO_OPTIONS,
    shape: ((result: DnsResult) => T) | undefined,
  ): Promise<T> {
    let question: EncodedQuestion;
    try {
      checkQueryOptions(options);
      question = this.question(name, type, options.remember ?? true);
    } catch (err) {
      return Promise.reject(err);
    }
    this.stats.queries++;
    const { signal } = options;
    const tcp = options.tcp ?? false;
    if (!queryChannel.hasSubscribers) return this.run(question, signal, tcp, shape);
    return this.reported(question, signal, tcp, shape);
  }

  private run<T>(
    question: EncodedQuestion,
    signal: AbortSignal | undefined,
    tcp: boolean,
    shape: ((result: DnsResult) => T) | undefined,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      this.attempt(new QueryPlan(this.received, question, signal, tcp, shape, resolve as Settle, reject), 0),
    );
  }

  private async reported<T>(
    question: EncodedQuestion,
    signal: AbortSignal | undefined,
    tcp: boolean,
    shape: ((result: DnsResult) => T) | undefined,
  ): Promise<T> {
    const started = performance.now();
    const report = (message: Omit<QueryMessage, 'name' | 'type' | 'durationMs'>) =>
      queryChannel.publish({
        name: question.name,
        type: question.type,
        durationMs: performance.now() - started,
        ...message,
      });
    let result: DnsResult;
    try {
      result = await this.run(question, signal, tcp, undefined);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      report({ server: err instanceof DnsError ? err.server : undefined, status: undefined, error, tcp: false });
      throw err;
    }
    report({ server: result.server, status: result.status, error: undefined, tcp: result.tcp });
    return shape === undefined ? (result as T) : shape(result);
  }

  // The checked name and its encoded query (ID 0), kept for names asked again: a watcher
  // asks the same few questions for ever.
  private question(name: string, type: QueryType, remember: boolean): EncodedQuestion {
    // By type, then by the name as given: callers ask the same name strings again and
    // again, and a string's hash is computed once.
    let byName = this.questions.get(type);
    if (byName === undefined) {
      if (!QUERY_TYPES.has(type))
        throw new TypeError(`type: expected 'A', 'AAAA', 'SRV' or 'PTR', got ${describe(type)}`);
      byName = new Map();
      this.questions.set(type, byName);
    }
    let question = byName.get(name);
    if (question === undefined) {
      question = encodeQuestion(checkName(name), type, this.udpPayloadSize, remember);
      if (!remember) return question;
      if (byName.size >= MAX_CACHED_QUESTIONS) byName.clear();
      byName.set(name, question);
    }
    return question;
  }

  // Attempt `attempt` (from 0) of the plan's question, then the next ones while failures
  // are retryable. This is the path every query takes: over UDP, the plan itself waits on the
  // channel, and the caller's promise is the only one a query makes.
  private attempt(plan: QueryPlan, attempt: number): void {
    const { question } = plan;
    const cancelled = this.cancellation(question.name, plan.signal);
    if (cancelled !== undefined) {
      plan.reject(this.failed(cancelled, question.name));
      return;
    }
    plan.attempt = attempt;
    plan.index = (this.preferred + attempt) % this.servers.length;
    const server = this.servers[plan.index] as Nameserver;
    // UDP, then TCP when the UDP answer was truncated; or TCP alone when asked to.
    try {
      if (plan.tcp) this.overTcp(server, plan, false);
      else this.udp.exchange(server, question, plan.signal, plan);
    } catch (err) {
      // An attempt starts from a promise's executor, a microtask or a promise reaction:
      // whatever starting it throws fails the query, not the process.
      plan.reject(this.failed(err, question.name));
    }
  }

  // The outcome of a plan's attempt over UDP, from inside the channel that settled it: the
  // next attempt starts from a later microtask, once the channel is done. (A field, so that
  // every plan holds the same function.)
  private readonly received = (plan: QueryPlan, outcome: Verdict | DnsError): void => {
    if (outcome instanceof DnsError) {
      queueMicrotask(() => this.retry(plan, outcome));
      return;
    }
    const { question } = plan;
    const server = this.servers[plan.index] as Nameserver;
    try {
      if (outcome.kind === 'answer') {
        this.answered(plan, this.classify(outcome.message, question, server, false, false));
        return;
      }
      this.stats.truncations++;
      const stopped = this.cancellation(question.name, plan.signal);
      if (stopped !== undefined) throw stopped;
      this.stats.tcpFallbacks++;
      this.overTcp(server, plan, true);
    } catch (err) {
      queueMicrotask(() => this.retry(plan, err));
    }
  };

  private answered(plan: QueryPlan, result: DnsResult): void {
    this.preferred = plan.index;
    plan.answer(result);
  }

  // A failed attempt: the next one if the failure is retryable and attempts are left.
  private retry(plan: QueryPlan, err: unknown): void {
    if (!(err instanceof DnsError) || !err.retryable || plan.attempt + 1 >= this.attempts) {
      plan.reject(this.failed(err, plan.question.name));
      return;
    }
    this.attempt(plan, plan.attempt + 1);
  }

  /** IPv4 addresses of `name`. Rejects with `ENOTFOUND`/`ENODATA` when there are none. */
  resolveA(name: string, options?: QueryOptions): Promise<string[]> {
    return this.ask(name, 'A', options, recordStrings);
  }

  /** IPv6 addresses of `name`. Rejects with `ENOTFOUND`/`ENODATA` when there are none. */
  resolveAaaa(name: string, options?: QueryOptions): Promise<string[]> {
    return this.ask(name, 'AAAA', options, recordStrings);
  }

  /** Names a reverse name (`7.1.244.10.in-addr.arpa`) points to. */
  resolvePtr(name: string, options?: QueryOptions): Promise<string[]> {
    return this.ask(name, 'PTR', options, ptrNames);
  }

  /** SRV records of `name`. Rejects with `ENOTFOUND`/`ENODATA` when there are none. */
  resolveSrv(name: string, options?: QueryOptions): Promise<SrvRecord[]> {
    return this.ask(name, 'SRV', options, srvRecords);
  }

  /** Cancels every query in flight (`ECANCELLED`) and closes every socket. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.isClosed = true;
    const reason = new Error('DnsClient closed');
    this.udp.close(reason);
    this.tcp.close(reason);
  }

  private overTcp(server: Nameserver, plan: QueryPlan, truncated: boolean): void {
    const { question } = plan;
    this.tcp
      .request(server, question, plan.signal)
      .then((verdict) => {
        if (verdict.kind === 'answer') return this.classify(verdict.message, question, server, true, truncated);
        // TC over TCP means the answer exceeds 64 KB: nothing complete will come.
        throw new DnsError('EBADRESP', TOO_BIG, {
          hostname: question.name,
          server: server.label,
        });
      })
      .then(
        (result) => this.answered(plan, result),
        (err: unknown) => this.retry(plan, err),
      );
  }

  private classify(
    message: Response,
    question: EncodedQuestion,
    server: Nameserver,
    tcp: boolean,
    truncated: boolean,
  ): DnsResult {
    const { name, type } = question;
    const { rcode } = message;
    const details = { hostname: name, server: server.label, rcode };
    if (rcode === 'SERVFAIL') throw new DnsError('ESERVFAIL', 'server failure', details);
    if (rcode === 'REFUSED') throw new DnsError('EREFUSED', 'query refused', details);
    if (rcode !== 'NOERROR' && rcode !== 'NXDOMAIN') throw new DnsError('EBADRESP', `response code ${rcode}`, details);
    // Records of the asked type only (answersFor), each a DnsRecord.
    const answers = (rcode === 'NXDOMAIN' ? [] : answersFor(message, name, type)) as DnsRecord[];
    const status = rcode === 'NXDOMAIN' ? 'nxdomain' : answers.length === 0 ? 'nodata' : 'records';
    const ttl = status === 'records' ? minTtl(answers, 0) : negativeTtl(message);
    return new Result(name, type, rcode, status, answers, message, tcp, truncated, server.label, ttl);
  }

  private cancellation(hostname: string, signal: AbortSignal | undefined): DnsError | undefined {
    if (this.closed) return new DnsError('ECANCELLED', 'client closed', { hostname });
    if (signal?.aborted) return new DnsError('ECANCELLED', 'query cancelled', { hostname, cause: signal.reason });
    return undefined;
  }

  private failed(err: unknown, hostname: string): DnsError {
    this.stats.failures++;
    if (err instanceof DnsError) return err;
    return new DnsError('EBADRESP', 'unexpected failure', { hostname, cause: err });
  }
}

/**
 * Whether `value` is a {@link DnsClient}, judged by its shape: a class check would fail for a
 * client from another copy of this package.
 */
export function isDnsClient(value: unknown): value is DnsClient {
  const client = value as Partial<DnsClient> | null | undefined;
  return (
    typeof client === 'object' &&
    client !== null &&
    typeof client.query === 'function' &&
    typeof client.close === 'function' &&
    Array.isArray(client.search) &&
    typeof client.ndots === 'number'
  );
}

// A result with records, else the ENOTFOUND/ENODATA error that the resolve* methods reject with.
function recordsOnly(result: DnsResult): DnsResult {
  if (result.status === 'records') return result;
  throw new DnsError(
    result.status === 'nxdomain' ? 'ENOTFOUND' : 'ENODATA',
    result.status === 'nxdomain' ? 'no such name' : `no ${result.type} records`,
    { hostname: result.name, server: result.server, rcode: result.rcode },
  );
}

function srvRecords(result: DnsResult): SrvRecord[] {
  return (recordsOnly(result).answers as RecordOf<'SRV'>[]).map((record) => ({
    name: canonicalName(record.data.target),
    port: record.data.port,
    priority: record.data.priority ?? 0,
    weight: record.data.weight ?? 0,
    ttl: record.ttl ?? 0,
  }));
}

// The data of records that must exist: A, AAAA or PTR.
function recordStrings(result: DnsResult): string[] {
  return (recordsOnly(result).answers as RecordOf<'A' | 'AAAA' | 'PTR'>[]).map((record) => record.data);
}

function ptrNames(result: DnsResult): string[] {
  return recordStrings(result).map(canonicalName);
}

const NO_OPTIONS: QueryOptions = Object.freeze({});

// Each option read by its name: a loop over the names would make every read a keyed one.
function checkQueryOptions(options: QueryOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options: expected an object, got ${describe(options)}`);
  }
  checkFlag('remember', options.remember);
  checkFlag('tcp', options.tcp);
  const { signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`signal: expected an AbortSignal, got ${describe(signal)}`);
  }
}

function checkFlag(option: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new TypeError(`${option}: expected true or false, got ${describe(value)}`);
  }
}

function validateSearch(search: unknown): string[] {
  if (!Array.isArray(search)) throw new TypeError(`search: expected an array of domains, got ${describe(search)}`);
  return search.map((domain) => checkName(domain, 'search'));
}
