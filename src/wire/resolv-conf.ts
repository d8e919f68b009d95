import { readFileSync } from 'node:fs';

/** What a resolver takes from `/etc/resolv.conf`. */
export interface ResolvConf {
  /** `nameserver` lines, in order (at most three, as glibc reads them). */
  nameservers: string[];
  /** The `search` list (or the `domain` line), lower-case, without trailing dots. */
  search: string[];
  /** `options ndots:N`, default 1 (glibc), capped at 15. */
  ndots: number;
  /** `options timeout:N` in milliseconds, when set. */
  timeout?: number;
  /** `options attempts:N` (tries per nameserver, glibc meaning), when set. */
  attempts?: number;
}

const MAX_NAMESERVERS = 3;

/**
 * Parses resolv.conf text the way glibc does: the last `search` or `domain` line wins,
 * unknown lines and options are ignored, values are capped at glibc's limits.
 */
export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], search: [], ndots: 1 };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (line === '') continue;
    const [keyword, ...args] = line.split(/\s+/);
    if (keyword === 'nameserver' && args[0] !== undefined && conf.nameservers.length < MAX_NAMESERVERS) {
      // A zone index (fe80::1%eth0) cannot be used from a socket address string.
      conf.nameservers.push(args[0].replace(/%.*$/, ''));
    } else if (keyword === 'search' || keyword === 'domain') {
      conf.search = args.map((s) => s.toLowerCase().replace(/\.$/, '')).filter((s) => s !== '');
    } else if (keyword === 'options') {
      for (const option of args) {
        const [name, value] = option.split(':');
        const n = Number(value);
        if (value === undefined || !Number.isInteger(n) || n < 0) continue;
        if (name === 'ndots') conf.ndots = Math.min(n, 15);
        else if (name === 'timeout') conf.timeout = Math.min(Math.max(n, 1), 30) * 1000;
        else if (name === 'attempts') conf.attempts = Math.min(Math.max(n, 1), 5);
      }
    }
  }
  return conf;
}

/**
 * Reads and parses resolv.conf. A missing file gives glibc's defaults: the local
 * nameserver, no search list, ndots 1. The default path can be changed with the
 * `HEADLESS_PEERS_RESOLV_CONF` environment variable (tests, laptops with a port-forward).
 *
 * @example
 * const { nameservers, search, ndots } = readResolvConf();
 */
export function readResolvConf(path = process.env.HEADLESS_PEERS_RESOLV_CONF || '/etc/resolv.conf'): ResolvConf {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { nameservers: ['127.0.0.1'], search: [], ndots: 1 };
    throw err;
  }
  const conf = parseResolvConf(text);
  if (conf.nameservers.length === 0) conf.nameservers.push('127.0.0.1');
  return conf;
}
