import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { FrameReader } from '../wire/framing.js';

/**
 * A UDP socket and a TCP server on the same port of 127.0.0.1. With port 0, the UDP port
 * the OS picked is tried for TCP, and another one if TCP's is taken.
 */
export async function listenUdpAndTcp(requested: number): Promise<{ udp: UdpSocket; tcp: Server; port: number }> {
  for (let tries = 0; ; tries++) {
    const udp = createSocket('udp4');
    udp.bind(requested, '127.0.0.1');
    await once(udp, 'listening');
    const port = udp.address().port;
    const tcp = createServer({ noDelay: true });
    try {
      tcp.listen(port, '127.0.0.1');
      await once(tcp, 'listening');
      return { udp, tcp, port };
    } catch (err) {
      udp.close();
      if (requested !== 0 || tries >= 20) throw err;
    }
  }
}

/**
 * Accepts DNS-over-TCP connections on `tcp`: each whole message goes to `onMessage` with its
 * connection. Open connections are kept in `connections`, so a closing server can end them.
 */
export function acceptFramed(
  tcp: Server,
  connections: Set<Socket>,
  onMessage: (message: Buffer, socket: Socket) => void,
): void {
  tcp.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    const reader = new FrameReader();
    socket.on('data', (chunk: Buffer) => {
      for (const message of reader.push(chunk)) onMessage(message, socket);
    });
  });
}
