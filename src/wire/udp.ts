import { createSocket, type Socket } from 'node:dgram';
import { Channel } from './channel.js';
import type { Nameserver } from './nameserver.js';

// A socket carries this many queries, then a fresh one (with a fresh, OS-chosen source
// port) takes over: an off-path spoofer must guess port and ID, and never gets a port
// that stays put for the life of the process.
const QUERIES_PER_SOCKET = 512;

/**
 * One connected UDP socket to one nameserver. Connecting makes the kernel drop datagrams
 * from any other source and report ICMP port-unreachable as ECONNREFUSED.
 */
export class UdpChannel extends Channel {
  private readonly socket: Socket;
  // Datagrams written before connect() completed: a connecting socket cannot send yet.
  private queued: Buffer[] | undefined = [];

  constructor(server: Nameserver, timeout: number, onClose: (channel: Channel) => void) {
    super(server, timeout, onClose);
    this.socket = createSocket(server.family === 6 ? 'udp6' : 'udp4');
    this.socket.on('message', (buf, rinfo) => {
      if (rinfo.address === server.host && rinfo.port === server.port) this.deliver(buf);
    });
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.failWith(err));
    this.socket.connect(server.port, server.host, (err?: Error) => {
      // A socket that cannot connect (EACCES for a broadcast address) cannot send either.
      if (err) {
        this.failWith(err);
        return;
      }
      const queued = this.queued ?? [];
      this.queued = undefined;
      for (const message of queued) this.send(message);
    });
    this.socket.unref();
  }

  get spent(): boolean {
    return this.uses >= QUERIES_PER_SOCKET;
  }

  protected transmit(message: Buffer): void {
    if (this.queued !== undefined) this.queued.push(message);
    else this.send(message);
  }

  private send(message: Buffer): void {
    // With a callback: an ICMP "port unreachable" left by an earlier datagram is reported
    // by the next send, and Node drops a send's error when there is no callback.
    if (!this.closed) this.socket.send(message, this.onSent);
  }

  private readonly onSent = (err: Error | null): void => {
    if (err) this.failWith(err);
  };

  private failWith(err: NodeJS.ErrnoException): void {
    this.fail(err.code === 'ECONNREFUSED' ? 'ECONNREFUSED' : 'EBADRESP', `UDP ${err.code ?? 'error'}`, err);
  }

  protected override hold(waiting: boolean): void {
    if (waiting) this.socket.ref();
    else this.socket.unref();
  }

  protected override idle(): void {
    if (this.spent) this.close();
  }

  protected shutdown(): void {
    this.socket.close();
  }
}
