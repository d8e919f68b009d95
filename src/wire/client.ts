import { checkBoolean, checkInteger, checkName, checkSignal, describe, rejectNulls } from './check.js';
import { type QueryMessage, queryChannel } from './diagnostics.js';
import { DnsError } from './errors.js';
import {
  answersFor,
  canonicalName,
  DEFAULT_UDP_PAYLOAD_SIZE,
  encodeQuestion,
  minTtl,
  negativeTtl,
  type QueryType,
  type Question,
  type Reply,
} from './message.js';
import { type Nameserver, parseNameserver } from './nameserver.js';
import { Query, type QueryHost, type QueryOutcome } from './query.js';
import type { DnsRecord, RecordOf } from './records.js';
import { readResolvConf } from './resolv-conf.js';
import { TcpLine } from './tcp.js';
import { UdpLine } from './udp.js';

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
  answers: DnsRecord[];
  /** The Additional section's records of the types {@link DnsRecord} describes (OPT and others left out). */
  additionals: DnsRecord[];
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

/** Counters since the client was made. */
export interface DnsClientStats {
  queries: number;
  /** UDP answers that came truncated (TC=1), each asked again over TCP. */
  truncations: number;
  /** Of those, the ones TCP then answered whole: fewer than `truncations` when TCP fails. */
  tcpFallbacks: number;
  failures: number;
}

const MAX_CACHED_QUESTIONS = 4096;
const QUERY_TYPES: ReadonlySet<string> = new Set(['A', 'AAAA', 'SRV', 'PTR']);

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

  private readonly host: QueryHost;
  private readonly udpLines = new Map<string, UdpLine>();
  private readonly tcpLines = new Map<string, TcpLine>();
  private readonly lines = new Set<UdpLine | TcpLine>();
  // The same few questions are asked again and again: each encoded once, by type and name.
  private readonly questions = new Map<string, Question>();
  private isClosed = false;

  constructor(options: DnsClientOptions = {}) {
    rejectNulls(options, 'DnsClient options');
    const { nameservers: given, search, ndots, timeout, attempts } = options;
    const conf = [given, search, ndots, timeout, attempts].includes(undefined)
      ? readResolvConf(options.resolvConf)
      : undefined;
    const nameservers = given ?? conf?.nameservers ?? [];
    if (!Array.isArray(nameservers) || nameservers.length === 0) {
      throw new TypeError(`nameservers: expected a non-empty array of addresses, got ${describe(nameservers)}`);
    }
    const servers = nameservers.map((value) => parseNameserver(value));
    this.nameservers = servers.map((server) => server.label);
    this.search = checkSearch(search ?? conf?.search ?? []);
    this.ndots = checkInteger('ndots', ndots ?? conf?.ndots ?? 1, 0, 15);
    this.timeout = checkInteger('timeout', timeout ?? conf?.timeout ?? 2000, 1, 600_000);
    const confAttempts = conf?.attempts === undefined ? undefined : conf.attempts * servers.length;
    this.attempts = checkInteger('attempts', attempts ?? confAttempts ?? 3, 1, 100);
    this.udpPayloadSize = checkInteger(
      'udpPayloadSize',
      options.udpPayloadSize ?? DEFAULT_UDP_PAYLOAD_SIZE,
      512,
      65535,
    );
    this.host = {
      servers,
      attempts: this.attempts,
      timeout: this.timeout,
      // Rotation starts from the last server that answered, as resolvers with `rotate` off do.
      preferred: 0,
      udp: (server) => this.line(this.udpLines, server, (s, done) => new UdpLine(s, done)),
      tcp: (server) => this.line(this.tcpLines, server, (s, done) => new TcpLine(s, done)),
      truncated: () => {
        this.stats.truncations++;
      },
    };
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
  query(name: string, type: QueryType, options: QueryOptions = {}): Promise<DnsResult> {
    let question: Question;
    try {
      checkQueryOptions(options);
      question = this.question(name, type, options.remember ?? true);
    } catch (err) {
      return Promise.reject(err);
    }
    this.stats.queries++;
    const started = queryChannel.hasSubscribers ? performance.now() : 0;
    return new Promise<DnsResult>((resolve, reject) => {
      const end = (outcome: QueryOutcome) => {
        if ('error' in outcome) {
          this.stats.failures++;
          if (started > 0) report(question, started, undefined, outcome.error);
          reject(outcome.truncated ? outcome.error.with({ truncated: true }) : outcome.error);
          return;
        }
        if (outcome.tcp && outcome.truncated) this.stats.tcpFallbacks++;
        let result: DnsResult;
        try {
          result = classify(question, outcome.reply, outcome.server, outcome.tcp, outcome.truncated);
        } catch (err) {
          reject(err);
          return;
        }
        if (started > 0) report(question, started, result, undefined);
        resolve(result);
      };
      if (this.isClosed)
        end({ error: new DnsError('ECANCELLED', 'client closed', { hostname: question.name }), truncated: false });
      else new Query(this.host, question, options.signal, options.tcp ?? false, end).start();
    });
  }

  /** IPv4 addresses of `name`. Rejects with `ENOTFOUND`/`ENODATA` when there are none. */
  async resolveA(name: string, options?: QueryOptions): Promise<string[]> {
    return addressesOf(recordsOnly(await this.query(name, 'A', options)));
  }

  /** IPv6 addresses of `name`. Rejects with `ENOTFOUND`/`ENODATA` when there are none. */
  async resolveAaaa(name: string, options?: QueryOptions): Promise<string[]> {
    return addressesOf(recordsOnly(await this.query(name, 'AAAA', options)));
  }

  /** Names a reverse name (`7.1.244.10.in-addr.arpa`) points to. */
  async resolvePtr(name: string, options?: QueryOptions): Promise<string[]> {
    return addressesOf(recordsOnly(await this.query(name, 'PTR', options))).map(canonicalName);
  }

  /** SRV records of `name`. Rejects with `ENOTFOUND`/`ENODATA` when there are none. */
  async resolveSrv(name: string, options?: QueryOptions): Promise<SrvRecord[]> {
    const result = recordsOnly(await this.query(name, 'SRV', options));
    return (result.answers as RecordOf<'SRV'>[]).map((record) => ({
      name: canonicalName(record.data.target),
      port: record.data.port,
      priority: record.data.priority ?? 0,
      weight: record.data.weight ?? 0,
      ttl: record.ttl ?? 0,
    }));
  }

  /** Cancels every query in flight (`ECANCELLED`) and closes every socket. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const reason = new Error('DnsClient closed');
    for (const line of [...this.lines]) line.close(reason);
  }

  // The line in use to `server`, or a fresh one when it is spent (a UDP socket that carried
  // its share, a TCP connection that is full or closed).
  private line<L extends UdpLine | TcpLine>(
    lines: Map<string, L>,
    server: Nameserver,
    open: (server: Nameserver, onClose: (line: L) => void) => L,
  ): L {
    let line = lines.get(server.label);
    if (line === undefined || line.spent) {
      if (this.isClosed) throw new DnsError('ECANCELLED', 'client closed', { server: server.label });
      line = open(server, (closed) => {
        this.lines.delete(closed);
        if (lines.get(server.label) === closed) lines.delete(server.label);
      });
      lines.set(server.label, line);
      this.lines.add(line);
    }
    return line;
  }

  // The checked question, encoded; kept for names asked again (a watcher's, for ever).
  private question(name: string, type: QueryType, remember: boolean): Question {
    if (!QUERY_TYPES.has(type))
      throw new TypeError(`type: expected 'A', 'AAAA', 'SRV' or 'PTR', got ${describe(type)}`);
    const key = `${type} ${name}`;
    let question = this.questions.get(key);
    if (question === undefined) {
      question = encodeQuestion(checkName(name), type, this.udpPayloadSize);
      if (!remember) return question;
      if (this.questions.size >= MAX_CACHED_QUESTIONS) this.questions.clear();
      this.questions.set(key, question);
    }
    return question;
  }
}

/** The answer as a DnsResult; an rcode that is no answer was failed by the query already. */
function classify(question: Question, reply: Reply, server: Nameserver, tcp: boolean, truncated: boolean): DnsResult {
  const { name, type } = question;
  const { rcode } = reply;
  const answers = (rcode === 'NXDOMAIN' ? [] : answersFor(reply.answers, name, type)) as DnsRecord[];
  const status = rcode === 'NXDOMAIN' ? 'nxdomain' : answers.length === 0 ? 'nodata' : 'records';
  const ttl = status === 'records' ? minTtl(answers, 0) : negativeTtl(reply.authorities);
  const { authoritative, additionals } = reply;
  return { name, type, rcode, status, answers, additionals, authoritative, truncated, tcp, server: server.label, ttl };
}

function report(question: Question, started: number, result: DnsResult | undefined, error: DnsError | undefined): void {
  const message: QueryMessage = {
    name: question.name,
    type: question.type,
    server: result?.server ?? error?.server,
    status: result?.status,
    error,
    tcp: result?.tcp ?? false,
    durationMs: performance.now() - started,
  };
  queryChannel.publish(message);
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

function addressesOf(result: DnsResult): string[] {
  return (result.answers as RecordOf<'A' | 'AAAA' | 'PTR'>[]).map((record) => record.data);
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

function checkQueryOptions(options: QueryOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options: expected an object, got ${describe(options)}`);
  }
  checkBoolean('remember', options.remember);
  checkBoolean('tcp', options.tcp);
  checkSignal(options.signal);
}

function checkSearch(search: unknown): string[] {
  if (!Array.isArray(search)) throw new TypeError(`search: expected an array of domains, got ${describe(search)}`);
  return search.map((domain) => checkName(domain, 'search'));
}
