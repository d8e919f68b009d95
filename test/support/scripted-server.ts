import type { RemoteInfo, Socket as UdpSocket } from 'node:dgram';
import type { Socket as TcpSocket } from 'node:net';
import { type Answer, type DecodedPacket, decode, encode, type Packet } from 'dns-packet';
import { acceptFramed, listenUdpAndTcp } from '../../src/testing/listen.js';
import { frame } from '../../src/wire/framing.js';

/** What a scripted handler gets for each query. */
export interface Exchange {
  query: DecodedPacket;
  raw: Buffer;
  rinfo: RemoteInfo;
  /** Sends raw bytes back from the server's socket. */
  send(buf: Buffer): void;
  /** Writes bytes as they are (no TCP length prefix), then, over TCP, closes the connection. */
  sendRawAndClose(buf: Buffer): void;
  /** Encodes and sends a response built on the query (same ID and question unless overridden). */
  reply(fields?: Partial<Packet> & { rcode?: number }): void;
}

export type Handler = (exchange: Exchange) => void;

/** A loopback DNS server whose every answer a test writes by hand (UDP, and TCP for fallbacks). */
export interface ScriptedServer {
  nameserver: string;
  port: number;
  udp: UdpSocket;
  udpQueries: number;
  tcpQueries: number;
  onUdp(handler: Handler): void;
  onTcp(handler: Handler): void;
  close(): Promise<void>;
}

/** A response to `query`, with `fields` merged over it. */
export function responseTo(query: DecodedPacket, fields: Partial<Packet> & { rcode?: number } = {}): Buffer {
  const { rcode = 0, ...rest } = fields;
  return encode({
    type: 'response',
    id: query.id,
    flags: (1 << 10) | rcode | (rest.flags ?? 0),
    questions: query.questions,
    answers: [],
    ...rest,
  } as Packet);
}

/**
 * Like {@link responseTo}, with every answer whose owner is the question's name written as
 * a pointer to the question (0xC00C), as real servers compress them.
 */
export function compressedResponseTo(query: DecodedPacket, answers: Answer[]): Buffer {
  const head = responseTo(query, { answers: [] });
  const qname = (query.questions?.[0]?.name ?? '').toLowerCase();
  const records = answers.map((record) => {
    const alone = encode({ type: 'response', answers: [record] }).subarray(12);
    if (record.name.toLowerCase() !== qname) return alone;
    return Buffer.concat([Buffer.from([0xc0, 0x0c]), alone.subarray(Buffer.byteLength(qname) + 2)]);
  });
  const message = Buffer.concat([head, ...records]);
  message.writeUInt16BE(answers.length, 6);
  return message;
}

export function aRecord(name: string, address: string, ttl = 5): Answer {
  return { type: 'A', name, ttl, class: 'IN', data: address };
}

export async function startScriptedServer(): Promise<ScriptedServer> {
  const { udp, tcp, port } = await listenUdpAndTcp(0);
  let udpHandler: Handler = (exchange) => exchange.reply();
  let tcpHandler: Handler = (exchange) => exchange.reply();
  const sockets = new Set<TcpSocket>();
  const server: ScriptedServer = {
    nameserver: `127.0.0.1:${port}`,
    port,
    udp,
    udpQueries: 0,
    tcpQueries: 0,
    onUdp: (handler) => {
      udpHandler = handler;
    },
    onTcp: (handler) => {
      tcpHandler = handler;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
  udp.on('message', (raw, rinfo) => {
    server.udpQueries++;
    const query = decode(raw);
    const send = (buf: Buffer) => udp.send(buf, rinfo.port, rinfo.address);
    udpHandler({ query, raw, rinfo, send, sendRawAndClose: send, reply: (fields) => send(responseTo(query, fields)) });
  });
  acceptFramed(tcp, sockets, (raw, socket) => {
    server.tcpQueries++;
    const query = decode(raw);
    const send = (buf: Buffer) => socket.write(frame(buf));
    const rinfo = { address: '127.0.0.1', family: 'IPv4', port: socket.remotePort ?? 0, size: raw.length } as const;
    const sendRawAndClose = (buf: Buffer) => socket.end(buf);
    tcpHandler({ query, raw, rinfo, send, sendRawAndClose, reply: (fields) => send(responseTo(query, fields)) });
  });
  return server;
}
