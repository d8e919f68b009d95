import { createSocket, type Socket } from 'node:dgram';
import { DnsError } from './errors.js';
import { freeId } from './ids.js';
import { judge, withId } from './message.js';
import type { Nameserver } from './nameserver.js';
import type { Line, Query } from './query.js';

// Datagrams out to one nameserver at once; more wait their turn: a burst bigger than a socket
// buffer holds loses datagrams, and each lost one costs a whole timeout.
const IN_FLIGHT = 128;
// Then a fresh socket, with a fresh OS-chosen source port: an off-path spoofer must guess
// port and ID, and never gets a port that stays put for the life of the process.
const QUERIES_PER_SOCKET = 512;

/**
 * One connected UDP socket to one nameserver. Connected, it hears from that server's address
 * and port only, and gets ICMP port-unreachable back as ECONNREFUSED.
 */
export class UdpLine implements Line {
  private readonly socket: Socket;
  private readonly pending = new Map<number, Query>();
  private readonly waiting: Query[] = [];
  private connected = false;
  private sent = 0;
  private closed = false;

  constructor(
    private readonly server: Nameserver,
    private readonly onClose: (line: UdpLine) => void,
  ) {
    this.socket = createSocket(server.family === 6 ? 'udp6' : 'udp4');
    this.socket.on('message', (buf) => this.receive(buf));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.connect(server.port, server.host, (err?: Error) => {
      // A socket that cannot connect (EACCES for a broadcast address) cannot send either.
      if (err) return this.fail(err);
      this.connected = true;
      this.drain();
    });
    this.socket.unref();
  }

  /** True when new queries should go to a fresh socket. */
  get spent(): boolean {
    return this.sent >= QUERIES_PER_SOCKET || this.closed;
  }

  send(query: Query): void {
    this.waiting.push(query);
    if (this.connected) this.drain();
  }

  forget(query: Query): void {
    if (this.pending.get(query.id) === query) this.pending.delete(query.id);
    else {
      const at = this.waiting.indexOf(query);
      if (at >= 0) this.waiting.splice(at, 1);
    }
    this.drain();
  }

  close(reason: unknown): void {
    if (this.closed) return;
    for (const query of this.shut()) query.cancel(reason);
  }

  private drain(): void {
    while (this.connected && !this.closed && this.pending.size < IN_FLIGHT && this.waiting.length > 0) {
      this.transmit(this.waiting.shift() as Query);
    }
    if (this.pending.size === 0 && this.waiting.length === 0) {
      this.socket.unref();
      if (this.spent) this.close(undefined);
    }
  }

  private transmit(query: Query): void {
    const id = freeId(this.pending);
    query.id = id;
    // Waiting for an answer keeps the process alive; an idle socket does not.
    if (this.pending.size === 0) this.socket.ref();
    this.pending.set(id, query);
    this.sent++;
    this.socket.send(withId(query.question, id), (err) => {
      if (err) this.fail(err);
    });
  }

  private receive(buf: Buffer): void {
    if (buf.length < 2) return;
    const query = this.pending.get(buf.readUInt16BE(0));
    if (query === undefined) return;
    const verdict = judge(buf, query.question);
    // Dropped or noted by the query; an answer, truncated or not, ends its time on this line.
    query.heard(this, verdict);
  }

  // The socket failed: every query on it fails (retryable), and the next go to a fresh one.
  private fail(err: NodeJS.ErrnoException): void {
    if (this.closed) return;
    const code = err.code === 'ECONNREFUSED' ? 'ECONNREFUSED' : 'EBADRESP';
    for (const query of this.shut()) {
      const details = { hostname: query.question.name, server: this.server.label, cause: err };
      query.lost(this, new DnsError(code, `UDP ${err.code ?? 'error'}`, details));
    }
  }

  // Closes the socket; returns the queries that were on it.
  private shut(): Query[] {
    this.closed = true;
    this.socket.close();
    this.onClose(this);
    const queries = [...this.pending.values(), ...this.waiting.splice(0)];
    this.pending.clear();
    return queries;
  }
}
