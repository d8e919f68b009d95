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
  // Node reports a failed send only to a callback, and a callback costs each datagram a
  // process.nextTick and a turn of Node's tick queue (a raw socket at c=64: 1.5-2.4 µs of
  // the ~13 µs of JavaScript CPU per query). So sends carry one until the server is heard
  // on this socket, and again once a query on it timed out. Not fewer: a send also returns
  // the ICMP error (ECONNREFUSED) that an earlier datagram brought back, so unchecked sends
  // to a closed port swallow every other error, and with an even number sent none is left
  // for the receive path to report. A failure that starts after the server was heard (a
  // firewall's EPERM, the server gone) shows at the latest after one timeout.
  private heard = false;

  constructor(server: Nameserver, timeout: number, onClose: (channel: Channel) => void) {
    super(server, timeout, onClose);
    this.socket = createSocket(server.family === 6 ? 'udp6' : 'udp4');
    // Connected: the kernel delivers datagrams from the server's address and port only.
    this.socket.on('message', (buf) => {
      this.heard = true;
      this.deliver(buf);
    });
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.socketFailed('UDP', err));
    this.socket.connect(server.port, server.host, (err?: Error) => {
      // A socket that cannot connect (EACCES for a broadcast address) cannot send either.
      if (err) {
        this.socketFailed('UDP', err);
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
    if (this.closed) return;
    if (this.heard) this.socket.send(message);
    else this.socket.send(message, this.onSent);
  }

  private readonly onSent = (err: Error | null): void => {
    if (err) this.socketFailed('UDP', err);
  };

  protected override timedOut(): void {
    this.heard = false;
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
