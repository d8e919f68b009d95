import { createSocket, type Socket } from 'node:dgram';
import { DnsError } from './errors.js';
import { randomId } from './ids.js';
import { type EncodedQuestion, judgeResponse, type Verdict, withId } from './message.js';
import type { Nameserver } from './nameserver.js';

// A socket carries this many queries, then a fresh one (with a fresh, OS-chosen source
// port) takes over: an off-path spoofer must guess port and ID, and never gets a port
// that stays put for the life of the process.
const QUERIES_PER_SOCKET = 512;
const NOTHING = (): void => {};

/** A query waiting on a UDP socket: a row in the channel's table. */
interface Pending {
  id: number;
  question: EncodedQuestion;
  deadline: number;
  malformed: string | undefined;
  settled: boolean;
  resolve: (verdict: Verdict) => void;
  reject: (error: DnsError) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * One connected UDP socket to one nameserver. Connecting makes the kernel drop datagrams
 * from any other source and report ICMP port-unreachable as ECONNREFUSED.
 *
 * Every query on a channel has the same timeout, so deadlines come in order: one timer
 * for the oldest deadline serves them all, instead of a timer per query.
 */
class UdpChannel {
  readonly socket: Socket;
  readonly pending = new Map<number, Pending>();
  private readonly deadlines: Pending[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  uses = 0;
  closed = false;
  // Datagrams written before connect() completed: a connecting socket cannot send yet.
  private queued: Buffer[] | undefined = [];

  constructor(
    readonly server: Nameserver,
    private readonly timeout: number,
    private readonly onClose: (channel: UdpChannel) => void,
  ) {
    this.socket = createSocket(server.family === 6 ? 'udp6' : 'udp4');
    this.socket.on('message', (buf, rinfo) => this.receive(buf, rinfo.address, rinfo.port));
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.fail(err));
    this.socket.connect(server.port, server.host, () => {
      const queued = this.queued ?? [];
      this.queued = undefined;
      for (const message of queued) this.send(message);
    });
    this.socket.unref();
  }

  get worn(): boolean {
    return this.uses >= QUERIES_PER_SOCKET;
  }

  /** Sends `template` (a query message) under a fresh ID; resolves with the verdict on its answer. */
  ask(question: EncodedQuestion, signal: AbortSignal | undefined): Promise<Verdict> {
    let id = randomId();
    while (this.pending.has(id)) id = randomId();
    const message = withId(question, id);
    return new Promise<Verdict>((resolve, reject) => {
      const entry: Pending = {
        id,
        question,
        deadline: Date.now() + this.timeout,
        malformed: undefined,
        settled: false,
        resolve,
        reject,
        signal,
        onAbort: undefined,
      };
      if (signal !== undefined) {
        entry.onAbort = () =>
          this.settle(
            entry,
            new DnsError('ECANCELLED', 'query cancelled', {
              hostname: question.name,
              server: this.server.label,
              cause: signal.reason,
            }),
          );
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      if (this.pending.size === 0) this.socket.ref();
      this.pending.set(id, entry);
      this.deadlines.push(entry);
      if (this.timer === undefined) this.arm();
      this.uses++;
      if (this.queued !== undefined) this.queued.push(message);
      else this.send(message);
    });
  }

  private send(message: Buffer): void {
    // With a callback: an ICMP "port unreachable" left by an earlier datagram is reported
    // by the next send, and Node drops a send's error when there is no callback.
    if (!this.closed) this.socket.send(message, this.onSent);
  }

  private readonly onSent = (err: Error | null): void => {
    if (err) this.fail(err);
  };

  private settle(entry: Pending, outcome: Verdict | DnsError): void {
    if (entry.settled) return;
    entry.settled = true;
    this.pending.delete(entry.id);
    if (entry.onAbort !== undefined) entry.signal?.removeEventListener('abort', entry.onAbort);
    if (this.pending.size === 0) {
      if (this.worn) this.close();
      else if (!this.closed) this.socket.unref();
    }
    const { resolve, reject } = entry;
    // The entry may wait in the deadline queue for up to a timeout more: it must not keep
    // the answer (through the promise its resolver holds) or the signal alive that long.
    entry.resolve = NOTHING;
    entry.reject = NOTHING;
    entry.signal = undefined;
    entry.onAbort = undefined;
    if (outcome instanceof DnsError) reject(outcome);
    else resolve(outcome);
  }

  private arm(): void {
    while (this.head < this.deadlines.length && (this.deadlines[this.head] as Pending).settled) this.head++;
    if (this.head > 1024 && this.head * 2 > this.deadlines.length) {
      this.deadlines.splice(0, this.head);
      this.head = 0;
    }
    const next = this.deadlines[this.head];
    if (next === undefined || this.closed) {
      this.timer = undefined;
      return;
    }
    this.timer = setTimeout(() => this.expire(), Math.max(0, next.deadline - Date.now()));
    // The socket, ref'd while queries wait, keeps the process alive; the timer need not.
    this.timer.unref();
  }

  private expire(): void {
    // Date.now(), like setTimeout, follows fake clocks in users' tests.
    const now = Date.now();
    while (this.head < this.deadlines.length) {
      const entry = this.deadlines[this.head] as Pending;
      if (!entry.settled && entry.deadline > now) break;
      this.head++;
      if (entry.settled) continue;
      const details = { hostname: entry.question.name, server: this.server.label };
      this.settle(
        entry,
        entry.malformed === undefined
          ? new DnsError('ETIMEOUT', `no answer within ${this.timeout} ms`, details)
          : new DnsError('EBADRESP', `bad answer: ${entry.malformed}`, details),
      );
    }
    this.arm();
  }

  private receive(buf: Buffer, address: string, port: number): void {
    if (address !== this.server.host || port !== this.server.port || buf.length < 2) return;
    const entry = this.pending.get(buf.readUInt16BE(0));
    if (entry === undefined) return;
    const { question } = entry;
    const verdict = judgeResponse(buf, entry.id, question.name, question.type, question.section);
    if (verdict.kind === 'foreign') return;
    if (verdict.kind === 'malformed') {
      entry.malformed = verdict.reason;
      return;
    }
    this.settle(entry, verdict);
  }

  private fail(err: NodeJS.ErrnoException): void {
    const code = err.code === 'ECONNREFUSED' ? 'ECONNREFUSED' : 'EBADRESP';
    for (const entry of [...this.pending.values()]) {
      this.settle(
        entry,
        new DnsError(code, `UDP ${err.code ?? 'error'}`, {
          hostname: entry.question.name,
          server: this.server.label,
          cause: err,
        }),
      );
    }
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.socket.close();
    this.onClose(this);
  }

  cancelAll(reason: unknown): void {
    for (const entry of [...this.pending.values()]) {
      this.settle(
        entry,
        new DnsError('ECANCELLED', 'client closed', {
          hostname: entry.question.name,
          server: this.server.label,
          cause: reason,
        }),
      );
    }
    this.close();
  }
}

/** UDP sockets by nameserver, rotated after a bounded number of queries. */
export class UdpTransport {
  private readonly current = new Map<string, UdpChannel>();
  private readonly all = new Set<UdpChannel>();

  constructor(private readonly timeout: number) {}

  /** Asks `server`; resolves with the answer or `truncated` verdict, rejects with a DnsError. */
  exchange(server: Nameserver, question: EncodedQuestion, signal: AbortSignal | undefined): Promise<Verdict> {
    return this.channelFor(server).ask(question, signal);
  }

  private channelFor(server: Nameserver): UdpChannel {
    let channel = this.current.get(server.label);
    if (channel === undefined || channel.closed || channel.worn) {
      if (channel !== undefined && !channel.closed && channel.pending.size === 0) channel.close();
      channel = new UdpChannel(server, this.timeout, (closed) => {
        this.all.delete(closed);
        if (this.current.get(server.label) === closed) this.current.delete(server.label);
      });
      this.current.set(server.label, channel);
      this.all.add(channel);
    }
    return channel;
  }

  /** Rejects every waiting query with ECANCELLED and closes every socket. */
  close(reason?: unknown): void {
    for (const channel of [...this.all]) channel.cancelAll(reason);
    this.current.clear();
  }
}
