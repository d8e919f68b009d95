import { createSocket, type Socket } from 'node:dgram';
import { DnsError } from './errors.js';
import { randomId } from './ids.js';
import { judgeResponse, type QueryType, type Verdict } from './message.js';
import type { Nameserver } from './nameserver.js';

// A socket carries this many queries, then a fresh one (with a fresh, OS-chosen source
// port) takes over: an off-path spoofer must guess port and ID, and never gets a port
// that stays put for the life of the process.
const QUERIES_PER_SOCKET = 512;

/** A query waiting on a UDP socket: a table row, not a closure. */
interface Pending {
  id: number;
  name: string;
  type: QueryType;
  timer: NodeJS.Timeout;
  malformed: string | undefined;
  resolve: (verdict: Verdict) => void;
  reject: (error: DnsError) => void;
}

/**
 * One connected UDP socket to one nameserver. Connecting makes the kernel drop datagrams
 * from any other source and report ICMP port-unreachable as ECONNREFUSED.
 */
class UdpChannel {
  readonly socket: Socket;
  readonly pending = new Map<number, Pending>();
  uses = 0;
  closed = false;
  // Datagrams written before connect() completed: a connecting socket cannot send yet.
  private queued: Buffer[] | undefined = [];

  constructor(
    readonly server: Nameserver,
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

  freeId(): number {
    let id = randomId();
    while (this.pending.has(id)) id = randomId();
    return id;
  }

  add(entry: Pending, message: Buffer): void {
    if (this.pending.size === 0) this.socket.ref();
    this.pending.set(entry.id, entry);
    this.uses++;
    if (this.queued !== undefined) this.queued.push(message);
    else this.send(message);
  }

  private send(message: Buffer): void {
    if (this.closed) return;
    this.socket.send(message, (err) => {
      if (err) this.fail(err);
    });
  }

  remove(id: number): void {
    if (!this.pending.delete(id)) return;
    if (this.pending.size === 0) {
      if (this.worn) this.close();
      else if (!this.closed) this.socket.unref();
    }
  }

  private receive(buf: Buffer, address: string, port: number): void {
    if (address !== this.server.host || port !== this.server.port || buf.length < 2) return;
    const entry = this.pending.get(buf.readUInt16BE(0));
    if (entry === undefined) return;
    const verdict = judgeResponse(buf, entry.id, entry.name, entry.type);
    if (verdict.kind === 'foreign') return;
    if (verdict.kind === 'malformed') {
      entry.malformed = verdict.reason;
      return;
    }
    clearTimeout(entry.timer);
    this.remove(entry.id);
    entry.resolve(verdict);
  }

  private fail(err: NodeJS.ErrnoException): void {
    const code = err.code === 'ECONNREFUSED' ? 'ECONNREFUSED' : 'EBADRESP';
    for (const entry of [...this.pending.values()]) {
      clearTimeout(entry.timer);
      entry.reject(
        new DnsError(code, `UDP ${err.code ?? 'error'}`, {
          hostname: entry.name,
          server: this.server.label,
          cause: err,
        }),
      );
    }
    this.pending.clear();
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
    this.onClose(this);
  }

  cancelAll(reason: unknown): void {
    for (const entry of [...this.pending.values()]) {
      clearTimeout(entry.timer);
      entry.reject(
        new DnsError('ECANCELLED', 'client closed', { hostname: entry.name, server: this.server.label, cause: reason }),
      );
    }
    this.pending.clear();
    this.close();
  }
}

/** A UDP exchange request. */
export interface UdpExchange {
  server: Nameserver;
  name: string;
  type: QueryType;
  timeout: number;
  signal: AbortSignal | undefined;
  encode: (id: number) => Buffer;
}

/** UDP sockets by nameserver, rotated after a bounded number of queries. */
export class UdpTransport {
  private readonly current = new Map<string, UdpChannel>();
  private readonly all = new Set<UdpChannel>();

  /** Resolves with the answer or `truncated` verdict; rejects with a DnsError. */
  exchange(request: UdpExchange): Promise<{ verdict: Verdict; id: number; query: Buffer }> {
    const channel = this.channelFor(request.server);
    const id = channel.freeId();
    const query = request.encode(id);
    const { name, type, timeout, signal } = request;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(entry.timer);
        channel.remove(id);
        reject(
          new DnsError('ECANCELLED', 'query cancelled', {
            hostname: name,
            server: request.server.label,
            cause: signal?.reason,
          }),
        );
      };
      const settle =
        <T>(fn: (value: T) => void) =>
        (value: T) => {
          signal?.removeEventListener('abort', onAbort);
          fn(value);
        };
      const entry: Pending = {
        id,
        name,
        type,
        malformed: undefined,
        resolve: settle((verdict: Verdict) => resolve({ verdict, id, query })),
        reject: settle(reject),
        timer: setTimeout(() => {
          channel.remove(id);
          entry.reject(
            entry.malformed === undefined
              ? new DnsError('ETIMEOUT', `no answer within ${timeout} ms`, {
                  hostname: name,
                  server: request.server.label,
                })
              : new DnsError('EBADRESP', `bad answer: ${entry.malformed}`, {
                  hostname: name,
                  server: request.server.label,
                }),
          );
        }, timeout),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      channel.add(entry, query);
    });
  }

  private channelFor(server: Nameserver): UdpChannel {
    let channel = this.current.get(server.label);
    if (channel === undefined || channel.closed || channel.worn) {
      if (channel !== undefined && !channel.closed && channel.pending.size === 0) channel.close();
      channel = new UdpChannel(server, (closed) => {
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
