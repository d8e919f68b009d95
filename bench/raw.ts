import { createSocket } from 'node:dgram';
import { encodeQuestion } from '../src/wire/message.js';

/** Pre-encoded queries on one connected socket, each resolved when its ID comes back. */
export interface RawQueries {
  query(name: string, type: 'A' | 'SRV'): Promise<void>;
  close(): void;
}

/**
 * The floor under every client: an answer matched by ID and nothing decoded, on one
 * connected UDP socket to `host:port`. What Node's dgram and this machine allow.
 */
export async function rawQueries(host: string, port: number): Promise<RawQueries> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.connect(port, host, () => resolve()));
  const waiting = new Map<number, () => void>();
  socket.on('message', (buf: Buffer) => {
    const id = buf.readUInt16BE(0);
    const done = waiting.get(id);
    waiting.delete(id);
    done?.();
  });
  const templates = new Map<string, Buffer>();
  let lastId = 0;
  return {
    query: (name, type) =>
      new Promise<void>((resolve) => {
        let template = templates.get(type + name);
        if (template === undefined) {
          template = encodeQuestion(name, type, 1232).message;
          templates.set(type + name, template);
        }
        lastId = (lastId + 1) & 0xffff;
        const message = Buffer.from(template);
        message.writeUInt16BE(lastId, 0);
        waiting.set(lastId, resolve);
        socket.send(message);
      }),
    close: () => socket.close(),
  };
}
