import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { DnsClient } from '../../src/wire/client.js';

/** A DNS server program run by a test: stopped and started again on the same port. */
export interface Daemon {
  /** `'127.0.0.1:PORT'`. */
  readonly nameserver: string;
  readonly port: number;
  /** What the program printed so far (since its last start). */
  readonly log: string;
  /** Stops it (SIGTERM, SIGKILL after 5 s) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again with the same configuration, and waits until it answers. */
  start(): Promise<void>;
}

export interface DaemonSpec {
  /** The program, for messages. */
  name: string;
  command: string;
  args: string[];
  port: number;
  /** A name to ask until it answers at all (records, NXDOMAIN or NODATA): the server is up. */
  probe: string;
  cwd?: string;
}

/** The first of `candidates` that exists (programs in /usr/sbin are often not on PATH). */
export function findProgram(...candidates: string[]): string | undefined {
  return candidates.find((candidate) => existsSync(candidate));
}

/** A port free on 127.0.0.1 for both UDP and TCP (the OS picks it). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const free = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/** Starts the program and waits (up to 15 s) until it answers on its port. */
export async function startDaemon(spec: DaemonSpec): Promise<Daemon> {
  const nameserver = `127.0.0.1:${spec.port}`;
  let child: ChildProcess | undefined;
  let log = '';

  const start = async () => {
    log = '';
    const proc = spawn(spec.command, spec.args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: spec.cwd });
    const collect = (chunk: Buffer) => {
      log += chunk.toString();
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    proc.on('error', (err) => {
      log += String(err);
    });
    child = proc;
    const client = new DnsClient({ nameservers: [nameserver], timeout: 300, attempts: 1, search: [], ndots: 1 });
    try {
      const deadline = Date.now() + 15_000;
      for (;;) {
        if (proc.exitCode !== null || proc.signalCode !== null) {
          throw new Error(`${spec.name} exited (${proc.exitCode ?? proc.signalCode}):\n${log}`);
        }
        try {
          await client.query(spec.probe, 'A');
          return;
        } catch (err) {
          if (Date.now() > deadline) throw new Error(`${spec.name} did not answer within 15 s: ${String(err)}\n${log}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    } finally {
      client.close();
    }
  };

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    nameserver,
    port: spec.port,
    get log() {
      return log;
    },
    stop,
    start,
  };
}
