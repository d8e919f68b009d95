import { connect, type Socket } from 'node:net';
import { Channel } from './channel.js';
import { FrameReader, frame } from './framing.js';
import type { Nameserver } from './nameserver.js';

// A connection takes this many queries in flight; more go to another connection.
const MAX_IN_FLIGHT = 1024;
// An idle connection is closed after this long: soon enough not to tie up the server
// (BIND closes idle clients after 30 s), late enough for the lookups that follow an answer.
const IDLE_MS = 1000;

/**
 * One TCP connection to one nameserver (RFC 7766 framing: a 2-byte length before each
 * message) carrying many queries at once: pipelined, answered in any order, matched by
 * ID and question as over UDP. Thousands of lookups cost a few writes and reads instead
 * of a datagram each way per lookup.
 */
export class TcpChannel extends Channel {
  private readonly socket: Socket;
  private readonly reader = new FrameReader();
  private idleTimer: NodeJS.Timeout | undefined;
  private corked = false;

  constructor(server: Nameserver, timeout: number, onClose: (channel: Channel) => void) {
    super(server, timeout, onClose);
    this.socket = connect({ host: server.host, port: server.port, family: server.family, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => {
      for (const message of this.reader.push(chunk)) this.deliver(message);
    });
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.socketFailed('TCP', err));
    // The server may close a connection at any time (idle, or after each answer): from its
    // FIN on, nothing more is sent on this one. What waits on it fails (retryable); after
    // answers on this connection, it is asked once more on a fresh one (see Transport).
    const ended = () =>
      this.fail('EBADRESP', 'TCP connection closed before a complete answer', undefined, this.answered > 0);
    this.socket.on('end', ended);
    this.socket.on('close', ended);
  }

  get spent(): boolean {
    return this.pending.size >= MAX_IN_FLIGHT;
  }

  protected transmit(message: Buffer): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    // Queries asked in one tick (the lookups that follow one answer) go out in one write.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.socket.write(frame(message));
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  protected override hold(waiting: boolean): void {
    if (waiting) this.socket.ref();
    else this.socket.unref();
  }

  protected override idle(): void {
    this.idleTimer = setTimeout(() => this.close(), IDLE_MS);
    this.idleTimer.unref();
  }

  protected override describe(): string {
    return ' over TCP';
  }

  protected shutdown(): void {
    clearTimeout(this.idleTimer);
    this.socket.destroy();
  }
}
