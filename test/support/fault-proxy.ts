import { createSocket, type RemoteInfo } from 'node:dgram';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { type DecodedPacket, decode, encode } from 'dns-packet';

/** What the proxy does to the traffic it carries. Every share is a probability in [0, 1]. */
export interface Faults {
  /** Queries dropped on the way in (UDP). */
  dropQuery?: number;
  /** Answers dropped on the way back (UDP). */
  dropAnswer?: number;
  /** Delay added to every UDP answer, ms. */
  delay?: number;
  /** Answers sent twice. */
  duplicate?: number;
  /** Answers with 1..4 random bytes overwritten (the ID kept, so they reach the decoder). */
  corrupt?: number;
  /** Answer every query itself with this response code instead of forwarding. */
  rcode?: 'SERVFAIL' | 'REFUSED';
  /** Swallow every query (UDP and TCP): a dead server. */
  silent?: boolean;
  /** Cut every UDP answer to `truncate` bytes' worth of answers with TC=1, as CoreDNS does. */
  truncate?: number;
  /** Over TCP, send half of each answer and close the connection. */
  tcpCloseMidAnswer?: boolean;
  /** Before the real answer, send forged ones: wrong ID, wrong question, and the right ID from another port. */
  spoof?: boolean;
}

export interface FaultProxy {
  nameserver: string;
  port: number;
  faults: Faults;
  /** Counters of what happened, for the figures. */
  counts: Record<string, number>;
  close(): Promise<void>;
}

const RCODES = { SERVFAIL: 2, REFUSED: 5 } as const;

/**
 * A DNS proxy on 127.0.0.1 between a client and an upstream server (BIND 9 or the embedded
 * cluster DNS), for UDP and TCP, that injects the faults in `faults` (changeable at any
 * time). It only ever talks to loopback addresses and handles one datagram or connection
 * per event: its work is bounded by the traffic the test sends.
 */
export async function startFaultProxy(
  upstreamPort: number,
  faults: Faults = {},
  random: () => number = Math.random,
): Promise<FaultProxy> {
  const front = createSocket('udp4');
  front.bind(0, '127.0.0.1');
  await once(front, 'listening');
  const port = front.address().port;
  const back = createSocket('udp4');
  back.bind(0, '127.0.0.1');
  await once(back, 'listening');
  const spoofer = createSocket('udp4');
  spoofer.bind(0, '127.0.0.1');
  await once(spoofer, 'listening');
  const tcp: Server = createServer();
  tcp.listen(port, '127.0.0.1');
  await once(tcp, 'listening');

  const counts: Record<string, number> = {};
  const count = (what: string) => {
    counts[what] = (counts[what] ?? 0) + 1;
  };
  const proxy: FaultProxy = { nameserver: `127.0.0.1:${port}`, port, faults, counts, close: async () => {} };
  const chance = (share: number | undefined) => share !== undefined && share > 0 && random() < share;
  // Upstream answers come back by query ID; the waiting client is remembered per ID.
  const waiting = new Map<number, RemoteInfo>();

  front.on('message', (buf, client) => {
    count('queries');
    const f = proxy.faults;
    if (f.silent || chance(f.dropQuery)) return count('droppedQueries');
    let query: DecodedPacket;
    try {
      query = decode(buf);
    } catch {
      return count('undecodableQueries');
    }
    const id = query.id ?? 0;
    if (f.rcode) {
      count('rcodeAnswers');
      front.send(
        encode({ type: 'response', id, flags: RCODES[f.rcode], questions: query.questions }),
        client.port,
        client.address,
      );
      return;
    }
    if (f.spoof) {
      const forged = {
        type: 'response' as const,
        flags: 1 << 10,
        answers: [{ type: 'A' as const, name: query.questions?.[0]?.name ?? '', ttl: 5, data: '6.6.6.6' }],
      };
      front.send(encode({ ...forged, id: (id + 1) & 0xffff, questions: query.questions }), client.port, client.address);
      front.send(
        encode({ ...forged, id, questions: [{ type: 'A', name: 'forged.example' }] }),
        client.port,
        client.address,
      );
      spoofer.send(encode({ ...forged, id, questions: query.questions }), client.port, client.address);
      count('spoofs');
    }
    waiting.set(id, client);
    back.send(buf, upstreamPort, '127.0.0.1');
  });

  back.on('message', (answer) => {
    if (answer.length < 2) return;
    const id = answer.readUInt16BE(0);
    const client = waiting.get(id);
    if (client === undefined) return;
    waiting.delete(id);
    const f = proxy.faults;
    if (chance(f.dropAnswer)) return count('droppedAnswers');
    let out: Buffer = answer;
    if (f.truncate !== undefined) out = truncateCoreDnsWay(answer, f.truncate, count);
    if (chance(f.corrupt)) {
      out = Buffer.from(out);
      const edits = 1 + Math.floor(random() * 4);
      for (let i = 0; i < edits; i++) out[2 + Math.floor(random() * (out.length - 2))] = Math.floor(random() * 256);
      count('corrupted');
    }
    const send = () => {
      if (closed) return;
      front.send(out, client.port, client.address);
      if (chance(f.duplicate)) {
        front.send(out, client.port, client.address);
        count('duplicated');
      }
    };
    if (f.delay) setTimeout(send, f.delay);
    else send();
  });

  const connections = new Set<Socket>();
  let closed = false;
  tcp.on('connection', (socket) => {
    // A connection the kernel accepted while the proxy was closing would hold tcp.close() open.
    if (closed) {
      socket.destroy();
      return;
    }
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    count('tcpConnections');
    if (proxy.faults.silent) return;
    const upstream = connect({ host: '127.0.0.1', port: upstreamPort });
    connections.add(upstream);
    upstream.on('close', () => {
      connections.delete(upstream);
      socket.destroy();
    });
    upstream.on('error', () => upstream.destroy());
    socket.on('close', () => upstream.destroy());
    socket.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (proxy.faults.tcpCloseMidAnswer) {
        count('tcpCut');
        socket.end(chunk.subarray(0, Math.max(2, chunk.length >> 1)));
        upstream.destroy();
        return;
      }
      socket.write(chunk);
    });
  });

  proxy.close = async () => {
    closed = true;
    for (const socket of connections) socket.destroy();
    await Promise.all([
      new Promise<void>((resolve) => front.close(() => resolve())),
      new Promise<void>((resolve) => back.close(() => resolve())),
      new Promise<void>((resolve) => spoofer.close(() => resolve())),
      new Promise<void>((resolve) => tcp.close(() => resolve())),
    ]);
  };
  return proxy;
}

// CoreDNS's way: keep the answers that fit in `limit` bytes, drop the rest and Additional, set TC.
function truncateCoreDnsWay(answer: Buffer, limit: number, count: (what: string) => void): Buffer {
  if (answer.length <= limit) return answer;
  const message = decode(answer);
  const answers = message.answers ?? [];
  let kept = answers.length;
  let out: Buffer;
  do {
    out = encode({
      ...message,
      type: 'response',
      flags: (message.flags ?? 0) | (1 << 9),
      answers: answers.slice(0, kept),
      additionals: [],
    });
    kept--;
  } while (out.length > limit && kept >= 0);
  count('truncated');
  return out;
}
