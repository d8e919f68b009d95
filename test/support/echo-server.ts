import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A loopback TCP server answering each `ping` line with `pong`: a stand-in for a pod. */
export interface EchoServer {
  host: string;
  port: number;
  connections: number;
  /** Closes the listener and every connection: the pod died. */
  kill(): Promise<void>;
  /** Listens again on the same address and port: the pod is back. */
  restart(): Promise<void>;
}

export async function startEchoServer(host = '127.0.0.1', port = 0): Promise<EchoServer> {
  let server: Server;
  const sockets = new Set<Socket>();
  const state: EchoServer = {
    host,
    port,
    connections: 0,
    kill: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
    restart: () => listen(),
  };
  const listen = async () => {
    server = createServer((socket) => {
      state.connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      socket.on('data', (chunk) => {
        if (chunk.toString().includes('ping')) socket.write('pong\n');
      });
    });
    server.listen(state.port, host);
    await once(server, 'listening');
    const address = server.address();
    if (address !== null && typeof address === 'object') state.port = address.port;
  };
  await listen();
  return state;
}

/** The client side: a socket and a ping that resolves on `pong`. */
export interface EchoClient {
  socket: Socket;
  address: string;
  ping(signal?: AbortSignal): Promise<void>;
}

export function connectEcho(host: string, port: number, signal: AbortSignal): Promise<EchoClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const onAbort = () => {
      socket.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(err);
    });
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      socket.on('error', () => socket.destroy());
      resolve({
        socket,
        address: `${host}:${port}`,
        ping: (pingSignal) =>
          new Promise<void>((ok, fail) => {
            if (socket.destroyed) return fail(new Error('connection closed'));
            const onData = (chunk: Buffer) => {
              if (chunk.toString().includes('pong')) done();
            };
            const onClose = () => done(new Error('connection closed'));
            const done = (error?: Error) => {
              socket.off('data', onData);
              socket.off('close', onClose);
              pingSignal?.removeEventListener('abort', onAbortPing);
              if (error) fail(error);
              else ok();
            };
            const onAbortPing = () => done(new Error('ping aborted'));
            pingSignal?.addEventListener('abort', onAbortPing, { once: true });
            socket.on('data', onData);
            socket.once('close', onClose);
            socket.write('ping\n');
          }),
      });
    });
  });
}
