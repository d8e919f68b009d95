import { resolvePeers } from '../watch/resolve.js';
import { watchPeers } from '../watch/watcher.js';
import type { CliOptions } from './args.js';
import { printEvents } from './events.js';
import { peerTable } from './format.js';

export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  stopped: Promise<unknown>;
}

function lookupOptions(name: string, options: CliOptions) {
  return {
    name,
    port: options.port,
    protocol: options.protocol,
    family: options.family,
    nameservers: options.nameservers,
  };
}

/** `headless-peers resolve <name>`: one lookup, a table or a JSON array. */
export async function resolveCommand(name: string, options: CliOptions, io: Io): Promise<number> {
  const peers = await resolvePeers(lookupOptions(name, options));
  if (options.json) io.out.write(`${JSON.stringify(peers)}\n`);
  else io.out.write(peers.length === 0 ? `${name}: no peers (the service is empty)\n` : peerTable(peers));
  return 0;
}

/** `headless-peers watch <name>`: events as they happen, until SIGINT/SIGTERM. */
export async function watchCommand(name: string, options: CliOptions, io: Io): Promise<number> {
  const watcher = watchPeers({
    ...lookupOptions(name, options),
    ...(options.interval === undefined ? {} : { interval: options.interval, respectTtl: false }),
  });
  printEvents(watcher, io.out, { json: options.json });
  await io.stopped;
  await watcher.close();
  return 0;
}
