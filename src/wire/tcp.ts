import { connect, type Socket } from 'node:net';
import { DnsError } from './errors.js';
import { FrameReader, frame } from './framing.js';
import { freeId } from './ids.js';
import { judge, withId } from './message.js';
import type { Nameserver } from './nameserver.js';
import type { Line, Query } from './query.js';

// A connection takes this many queries in flight; more go to another connection.
const IN_FLIGHT = 1024;
// An idle connection is closed after this long: soon enough not to tie up the server (BIND
// closes idle clients after 30 s), late enough for the lookups that follow an answer.
const IDLE_MS = 1000;

/**
 * One TCP connection to one nameserver carrying many queries at once (RFC 7766): each message
 * after its 2-byte length, answered in any order, matched by ID and question as over UDP.
 */
export class TcpLine implements Line {
  private readonly socket: Socket;
  private readonly reader = new FrameReader();
  private readonly pending = new Map<number, Query>();
  private answered = 0;
  private closed = false;
  private corked = false;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly server: Nameserver,
    private readonly onClose: (line: TcpLine) => void,
  ) {
    this.socket = connect({ host: server.host, port: server.port, family: server.family, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => {
      for (const message of this.reader.push(chunk)) this.receive(message);
    });
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.fail(err.code === 'ECONNREFUSED', err));
    // The server may close the connection at any time (idle, or after each answer). What was
    // waiting fails; after answers on this connection it is asked once more on a fresh one.
    const ended = () => this.fail(false, undefined);
    this.socket.on('end', ended);
    this.socket.on('close', ended);
  }

  /** True when new queries should go to another connection. */
  get spent(): boolean {
    return this.closed || this.pending.size >= IN_FLIGHT;
  }

  send(query: Query): void {
    clearTimeout(this.idleTimer);
    const id = freeId(this.pending);
    query.id = id;
    this.pending.set(id, query);
    this.socket.ref();
    // Queries asked in one tick (the lookups that follow one answer) go out in one write.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.socket.write(frame(withId(query.question, id)));
  }

  forget(query: Query): void {
    if (this.pending.get(query.id) === query) this.pending.delete(query.id);
    if (this.pending.size > 0 || this.closed) return;
    this.socket.unref();
    this.idleTimer = setTimeout(() => this.close(undefined), IDLE_MS);
    this.idleTimer.unref();
  }

  close(reason: unknown): void {
    if (this.closed) return;
    const queries = this.shut();
    for (const query of queries) query.cancel(reason);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  private receive(message: Buffer): void {
    if (message.length < 2) return;
    const query = this.pending.get(message.readUInt16BE(0));
    if (query === undefined) return;
    const verdict = judge(message, query.question);
    if (verdict.kind === 'answer' || verdict.kind === 'truncated') this.answered++;
    query.heard(this, verdict);
  }

  // The connection failed or the server ended it: every query on it fails (retryable).
  private fail(refused: boolean, cause: unknown): void {
    if (this.closed) return;
    const orphaned = this.answered > 0;
    for (const query of this.shut()) {
      const details = { hostname: query.question.name, server: this.server.label, cause };
      const error = refused
        ? new DnsError('ECONNREFUSED', 'TCP ECONNREFUSED', details)
        : new DnsError('EBADRESP', 'TCP connection closed before a complete answer', details);
      query.lost(this, error, orphaned);
    }
  }

  // Closes the connection; returns the queries that were waiting on it.
  private shut(): Query[] {
    this.closed = true;
    clearTimeout(this.idleTimer);
    this.socket.destroy();
    this.onClose(this);
    const queries = [...this.pending.values()];
    this.pending.clear();
    return queries;
  }
}
