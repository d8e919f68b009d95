import type { Answer, SrvAnswer, StringAnswer } from 'dns-packet';
import { checkInteger, checkName, describe, rejectNulls } from './check.js';
import { type QueryMessage, queryChannel } from './diagnostics.js';
import { DnsError } from './errors.js';
import { randomId } from './ids.js';
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
} from './message.js';
import { type Nameserver, parseNameserver } from './nameserver.js';
import { readResolvConf } from './resolv-conf.js';
import { exchangeTcp } from './tcp.js';
import { UdpTransport } from './udp.js';

export type { QueryType } from './message.js';

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
  answers: Answer[];
  /**
   * The Additional section, OPT excluded; decoded when first read. When it does not decode
   * cleanly it reads as empty (the answer itself was validated).
   */
  readonly additionals: Answer[];
  /** AA flag. */
  authoritative: boolean;
  /** The UDP answer came with TC=1 (so this one came over TCP). */
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
  readonly truncated: boolean;

  constructor(
    readonly name: string,
    readonly type: QueryType,
    readonly rcode: string,
    readonly status: 'records' | 'nxdomain' | 'nodata',
    readonly answers: Answer[],
    private readonly message: Response,
    readonly tcp: boolean,
    readonly server: string,
    readonly ttl: number,
  ) {
    this.authoritative = message.authoritative;
    this.truncated = tcp;
  }

  get additionals(): Answer[] {
    return this.message.additionals();
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
}

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
  private readonly udp: UdpTransport;
  private readonly questions = new Map<QueryType, Map<string, EncodedQuestion>>();
  private readonly tcpInFlight = new Set<(reason: unknown) => void>();
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
    this.udp = new UdpTransport(this.timeout);
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
  async query(name: string, type: QueryType, options: QueryOptions = {}): Promise<DnsResult> {
    const question = this.question(name, type, options.remember ?? true);
    this.stats.queries++;
    if (!queryChannel.hasSubscribers) return this.attempt(question, options.signal);
    const started = performance.now();
    const report = (message: Omit<QueryMessage, 'name' | 'type' | 'durationMs'>) =>
      queryChannel.publish({ name: question.name, type, durationMs: performance.now() - started, ...message });
    try {
      const result = await this.attempt(question, options.signal);
      report({ server: result.server, status: result.status, error: undefined, tcp: result.tcp });
      return result;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      report({ server: err instanceof DnsError ? err.server : undefined, status: undefined, error, tcp: false });
      throw err;
    }
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
      question = encodeQuestion(checkName(name), type, this.udpPayloadSize);
      if (!remember) return question;
      if (byName.size >= MAX_CACHED_QUESTIONS) byName.clear();
      byName.set(name, question);
    }
    return question;
  }

  private async attempt(question: EncodedQuestion, signal: AbortSignal | undefined): Promise<DnsResult> {
    let lastError: DnsError | undefined;
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      this.throwIfCancelled(question.name, signal);
      const index = (this.preferred + attempt) % this.servers.length;
      const server = this.servers[index] as Nameserver;
      let result: DnsResult;
      try {
        result = await this.ask(server, question, signal);
      } catch (err) {
        if (!(err instanceof DnsError) || !err.retryable) throw this.failed(err, question.name);
        lastError = err;
        continue;
      }
      this.preferred = index;
      return result;
    }
    throw this.failed(
      lastError ?? new DnsError('ETIMEOUT', 'no attempt made', { hostname: question.name }),
      question.name,
    );
  }

  /** IPv4 addresses of `name`. Rejects with `ENOTFOUND`/`ENODATA` when there are none. */
  async resolveA(name: string, options?: QueryOptions): Promise<string[]> {
    return strings(await this.records(name, 'A', options));
  }

  /** IPv6 addresses of `name`. Rejects with `ENOTFOUND`/`ENODATA` when there are none. */
  async resolveAaaa(name: string, options?: QueryOptions): Promise<string[]> {
    return strings(await this.records(name, 'AAAA', options));
  }

  /** Names a reverse name (`7.1.244.10.in-addr.arpa`) points to. */
  async resolvePtr(name: string, options?: QueryOptions): Promise<string[]> {
    return strings(await this.records(name, 'PTR', options)).map(canonicalName);
  }

  /** SRV records of `name`. Rejects with `ENOTFOUND`/`ENODATA` when there are none. */
  async resolveSrv(name: string, options?: QueryOptions): Promise<SrvRecord[]> {
    const result = await this.records(name, 'SRV', options);
    return (result.answers as SrvAnswer[]).map((record) => ({
      name: canonicalName(record.data.target),
      port: record.data.port,
      priority: record.data.priority ?? 0,
      weight: record.data.weight ?? 0,
      ttl: record.ttl ?? 0,
    }));
  }

  /** Cancels every query in flight (`ECANCELLED`) and closes every socket. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.isClosed = true;
    const reason = new Error('DnsClient closed');
    this.udp.close(reason);
    for (const cancel of [...this.tcpInFlight]) cancel(reason);
  }

  private async records(name: string, type: QueryType, options?: QueryOptions): Promise<DnsResult> {
    const result = await this.query(name, type, options);
    if (result.status === 'records') return result;
    throw new DnsError(
      result.status === 'nxdomain' ? 'ENOTFOUND' : 'ENODATA',
      result.status === 'nxdomain' ? 'no such name' : `no ${type} records`,
      { hostname: result.name, server: result.server, rcode: result.rcode },
    );
  }

  // One attempt against one server: UDP, then TCP when the UDP answer was truncated.
  private async ask(
    server: Nameserver,
    question: EncodedQuestion,
    signal: AbortSignal | undefined,
  ): Promise<DnsResult> {
    const { name, type } = question;
    const verdict = await this.udp.exchange(server, question, signal);
    if (verdict.kind === 'answer') return this.classify(verdict.message, name, type, server, false);
    this.stats.truncations++;
    this.throwIfCancelled(name, signal);
    this.stats.tcpFallbacks++;
    const answer = await exchangeTcp(
      { server, question, id: randomId(), timeout: this.timeout, signal },
      this.tcpInFlight,
    );
    return this.classify(answer.message, name, type, server, true);
  }

  private classify(message: Response, name: string, type: QueryType, server: Nameserver, tcp: boolean): DnsResult {
    const { rcode } = message;
    const details = { hostname: name, server: server.label, rcode };
    if (rcode === 'SERVFAIL') throw new DnsError('ESERVFAIL', 'server failure', details);
    if (rcode === 'REFUSED') throw new DnsError('EREFUSED', 'query refused', details);
    if (rcode !== 'NOERROR' && rcode !== 'NXDOMAIN') throw new DnsError('EBADRESP', `response code ${rcode}`, details);
    const answers = rcode === 'NXDOMAIN' ? [] : answersFor(message, name, type);
    const status = rcode === 'NXDOMAIN' ? 'nxdomain' : answers.length === 0 ? 'nodata' : 'records';
    const ttl = status === 'records' ? minTtl(answers, 0) : negativeTtl(message);
    return new Result(name, type, rcode, status, answers, message, tcp, server.label, ttl);
  }

  private throwIfCancelled(hostname: string, signal: AbortSignal | undefined): void {
    if (this.closed) throw new DnsError('ECANCELLED', 'client closed', { hostname });
    if (signal?.aborted) throw new DnsError('ECANCELLED', 'query cancelled', { hostname, cause: signal.reason });
  }

  private failed(err: unknown, hostname: string): DnsError {
    this.stats.failures++;
    if (err instanceof DnsError) return err;
    return new DnsError('EBADRESP', 'unexpected failure', { hostname, cause: err });
  }
}

function strings(result: DnsResult): string[] {
  return (result.answers as StringAnswer[]).map((record) => record.data);
}

function validateSearch(search: unknown): string[] {
  if (!Array.isArray(search)) throw new TypeError(`search: expected an array of domains, got ${describe(search)}`);
  return search.map((domain) => checkName(domain, 'search'));
}
