import type { PeerWatcher } from '../watch/watcher.js';
import { painter } from './format.js';

export interface PrintOptions {
  json: boolean;
  /** A clock for the human form's timestamps. @default real time */
  now?: () => Date;
}

/**
 * Prints each event of `watcher` as it happens: a coloured line for a terminal, a plain
 * one for a pipe, or one JSON object per line with `json`.
 */
export function printEvents(watcher: PeerWatcher, out: NodeJS.WritableStream, options: PrintOptions): void {
  const paint = painter(out);
  const now = options.now ?? (() => new Date());
  const time = () => now().toISOString().slice(11, 23);
  const write = (record: Record<string, unknown>, human: string) => {
    out.write(
      options.json
        ? `${JSON.stringify({ time: now().toISOString(), ...record })}\n`
        : `${paint('dim', time())}  ${human}\n`,
    );
  };
  watcher.on('peer-joined', (peer) => {
    write({ event: 'peer-joined', peer }, `${paint('green', '+ joined ')}  ${peer.id}  ${peer.addresses.join(' ')}`);
  });
  watcher.on('peer-left', (peer, reason) => {
    write({ event: 'peer-left', peer, reason }, `${paint('red', '- left   ')}  ${peer.id}  (${reason})`);
  });
  watcher.on('peer-missing', (peer) => {
    write({ event: 'peer-missing', peer }, `${paint('yellow', '? missing')}  ${peer.id}  (held by leaveAfter)`);
  });
  watcher.on('peer-returned', (peer) => {
    write({ event: 'peer-returned', peer }, `${paint('green', '= back   ')}  ${peer.id}`);
  });
  watcher.on('peer-updated', (peer, previous) => {
    const what = (['addresses', 'port', 'priority', 'weight'] as const)
      .map((key) => [
        key,
        String(previous[key] ?? '-').replaceAll(',', ' '),
        String(peer[key] ?? '-').replaceAll(',', ' '),
      ])
      .filter(([, before, after]) => before !== after)
      .map(([key, before, after]) => `${key} ${before} -> ${after}`)
      .join(', ');
    write({ event: 'peer-updated', peer, previous }, `${paint('yellow', '~ updated')}  ${peer.id}  ${what}`);
  });
  watcher.on('error', (error) => {
    write(
      { event: 'error', code: error.code, message: error.message },
      `${paint('magenta', '! error  ')}  ${error.code}: poll failed, membership kept (${watcher.peers().length} peers)`,
    );
  });
}
