import { DnsError, type DnsErrorCode } from './errors.js';
import type { Question, Reply, Verdict } from './message.js';
import type { Nameserver } from './nameserver.js';

/**
 * A connection to one nameserver that carries queries: it sends a query's message under an
 * ID of its own, tells the query what comes back under that ID, and that it failed under it.
 */
export interface Line {
  /** Sends `query` (now, or when there is room). */
  send(query: Query): void;
  /** The query is over on this line (answered elsewhere, timed out, cancelled). */
  forget(query: Query): void;
}

/** What a query needs of its client. */
export interface QueryHost {
  readonly servers: readonly Nameserver[];
  readonly attempts: number;
  readonly timeout: number;
  /** The nameserver the rotation starts from: the last that answered. */
  preferred: number;
  udp(server: Nameserver): Line;
  tcp(server: Nameserver): Line;
  /** A UDP answer came truncated (and is asked again over TCP). */
  truncated(): void;
}

/** What a query ends with: the answer and how it came, or the error. */
export type QueryOutcome =
  | { reply: Reply; server: Nameserver; tcp: boolean; truncated: boolean }
  | { error: DnsError; truncated: boolean };

// The answer says the question does not fit in a DNS message, whatever the server (see docs).
const TOO_BIG =
  'answer too big for one DNS message, even over TCP: 65,535 bytes hold about 930 SRV targets ' +
  '(BIND, Knot DNS; 710 on PowerDNS; fewer with names longer than 50 characters) or 4,000 addresses';

function timedOut(query: Query): void {
  query.expire();
}

/** The error code and message of a response code that is a failure; undefined for NOERROR and NXDOMAIN. */
function rcodeFailure(rcode: string): [DnsErrorCode, string] | undefined {
  if (rcode === 'NOERROR' || rcode === 'NXDOMAIN') return undefined;
  if (rcode === 'SERVFAIL') return ['ESERVFAIL', 'server failure'];
  if (rcode === 'REFUSED') return ['EREFUSED', 'query refused'];
  return ['EBADRESP', `response code ${rcode}`];
}

/**
 * One lookup from the call to its outcome: attempts over rotating nameservers, each over UDP
 * (then TCP when the answer came truncated) or TCP alone, each with its timeout; cancelled by
 * its signal. It ends once, with `end`.
 */
export class Query {
  /** The ID it is asked under on its current line. */
  id = 0;
  private attempt = 0;
  private server: Nameserver;
  private line: Line | undefined;
  private overTcp: boolean;
  private wasTruncated = false;
  private resent = false;
  private malformed: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    private readonly host: QueryHost,
    readonly question: Question,
    private readonly signal: AbortSignal | undefined,
    private readonly tcpOnly: boolean,
    private readonly end: (outcome: QueryOutcome) => void,
  ) {
    this.overTcp = tcpOnly;
    this.server = host.servers[host.preferred] as Nameserver;
  }

  start(): void {
    if (this.signal?.aborted) {
      this.handleEvent();
      return;
    }
    this.signal?.addEventListener('abort', this, { once: true });
    this.next();
  }

  /** The signal aborted. */
  handleEvent(): void {
    this.finish(this.error('ECANCELLED', 'query cancelled', this.signal?.reason));
  }

  /** What came under this query's ID on `line`. */
  heard(line: Line, verdict: Verdict): void {
    if (this.done || line !== this.line) return;
    if (verdict.kind === 'malformed') {
      // Dropped; the attempt goes on, and says so if nothing better comes.
      this.malformed = verdict.reason;
      return;
    }
    if (verdict.kind === 'foreign') return;
    this.stop();
    if (verdict.kind === 'truncated') this.truncated();
    else if (rcodeFailure(verdict.reply.rcode) !== undefined) this.failed(this.rcodeError(verdict.reply.rcode));
    else {
      this.host.preferred = this.host.servers.indexOf(this.server);
      this.finish({ reply: verdict.reply, server: this.server, tcp: this.overTcp, truncated: this.wasTruncated });
    }
  }

  // A partial answer is never used: the same question over TCP, to the same server. Truncated
  // over TCP too, it can never be whole.
  private truncated(): void {
    if (this.overTcp) {
      this.failed(this.error('EBADRESP', TOO_BIG));
      return;
    }
    this.host.truncated();
    this.wasTruncated = true;
    this.overTcp = true;
    this.send(this.host.tcp);
  }

  private rcodeError(rcode: string): DnsError {
    const [code, message] = rcodeFailure(rcode) ?? ['EBADRESP', `response code ${rcode}`];
    return new DnsError(code, message, { hostname: this.question.name, server: this.server.label, rcode });
  }

  /**
   * `line` failed under this query. `orphaned`: the server closed a TCP connection after
   * answering others on it; this query never reached a server that meant to answer it, so it
   * is asked once more on a fresh connection without spending an attempt.
   */
  lost(line: Line, error: DnsError, orphaned = false): void {
    if (this.done || line !== this.line) return;
    this.stop();
    if (orphaned && !this.resent && !this.signal?.aborted) {
      this.resent = true;
      queueMicrotask(() => this.send(this.host.tcp));
      return;
    }
    this.failed(error);
  }

  /** Ends the query as its client closes. */
  cancel(reason: unknown): void {
    this.finish(this.error('ECANCELLED', 'client closed', reason));
  }

  private next(): void {
    const { servers, preferred } = this.host;
    this.server = servers[(preferred + this.attempt) % servers.length] as Nameserver;
    this.overTcp = this.tcpOnly;
    this.send(this.overTcp ? this.host.tcp : this.host.udp);
  }

  /** Sends the query on the line `open` gives to the attempt's server. */
  private send(open: (server: Nameserver) => Line): void {
    if (this.done) return;
    this.malformed = undefined;
    // Counted from when it is asked: a query waiting for room on the line waits on this clock.
    this.timer = setTimeout(timedOut, this.host.timeout, this);
    try {
      this.line = open(this.server);
      this.line.send(this);
    } catch (cause) {
      // Opening a socket can throw: the query fails, not the process. A client that closed
      // meanwhile ends it as cancelled.
      this.stop();
      this.failed(cause instanceof DnsError ? cause : this.error('EBADRESP', 'unexpected failure', cause));
    }
  }

  /** The attempt's time is up. */
  expire(): void {
    this.timer = undefined;
    this.stop();
    const how = this.overTcp ? ' over TCP' : '';
    this.failed(
      this.malformed === undefined
        ? this.error('ETIMEOUT', `no answer${how} within ${this.host.timeout} ms`)
        : this.error('EBADRESP', `bad answer${how}: ${this.malformed}`),
    );
  }

  // The attempt is over: off its line, its timer stopped.
  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.line?.forget(this);
    this.line = undefined;
  }

  // A failed attempt: the next one, if the failure is worth another and attempts are left.
  private failed(error: DnsError): void {
    if (this.done) return;
    if (!error.retryable || this.attempt + 1 >= this.host.attempts || this.signal?.aborted) {
      this.finish(error);
      return;
    }
    this.attempt++;
    this.wasTruncated = false;
    // From a later microtask: the line that failed may still be failing its other queries.
    queueMicrotask(() => this.next());
  }

  private finish(outcome: QueryOutcome | DnsError): void {
    if (this.done) return;
    this.done = true;
    this.stop();
    this.signal?.removeEventListener('abort', this);
    this.end(outcome instanceof DnsError ? { error: outcome, truncated: this.wasTruncated } : outcome);
  }

  private error(code: 'ECANCELLED' | 'ETIMEOUT' | 'EBADRESP', message: string, cause?: unknown): DnsError {
    return new DnsError(code, message, { hostname: this.question.name, server: this.server.label, cause });
  }
}
