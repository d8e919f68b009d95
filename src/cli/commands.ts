import { toPeerQuery } from '../watch/options.js';
import { Poller } from '../watch/poll.js';
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

/**
 * `headless-peers resolve <name>`: one lookup, a table or a JSON array. Nothing found says
 * which names were asked: a misspelt short name looks exactly like an empty service.
 */
export async function resolveCommand(name: string, options: CliOptions, io: Io): Promise<number> {
  const query = toPeerQuery(lookupOptions(name, options));
  const poller = new Poller(query);
  try {
    const outcome = await poller.poll();
    const peers = outcome.kind === 'records' ? outcome.peers : [];
    if (options.json) io.out.write(`${JSON.stringify(peers)}\n`);
    else io.out.write(peers.length === 0 ? nothingFound(name, poller.askedNames()) : peerTable(peers));
    return 0;
  } finally {
    query.client.close();
  }
}

function nothingFound(name: string, asked: string[]): string {
  return `${name}: no such service, or no ready pods. Asked, NXDOMAIN or NODATA each:\n${asked.map((n) => `  ${n}\n`).join('')}`;
}

/** `headless-peers watch <name>`: events as they happen, until SIGINT/SIGTERM. */
export async function watchCommand(name: string, options: CliOptions, io: Io): Promise<number> {
  const watcher = watchPeers({
    ...lookupOptions(name, options),
    ...(options.interval === undefined ? {} : { interval: options.interval, respectTtl: false }),
  });
  printEvents(watcher, io.out, { json: options.json });
  watcher.ready().then(
    (peers) => {
      if (peers.length > 0 || options.json) return;
      const query = toPeerQuery(lookupOptions(name, options));
      io.out.write(
        `${nothingFound(name, new Poller(query).askedNames())}  (watching: pods that get ready will join)\n`,
      );
      query.client.close();
    },
    () => {},
  );
  await io.stopped;
  await watcher.close();
  return 0;
}
