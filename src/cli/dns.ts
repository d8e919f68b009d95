import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type ClusterDns, createClusterDns, type FailureMode, type PodSpec } from '../testing/cluster-dns.js';
import type { CliOptions, PodFlag } from './args.js';
import type { Io } from './commands.js';

const MAX_BODY = 64 * 1024;

/**
 * `headless-peers dns`: the embedded cluster DNS as a process of its own, with pods from
 * `--pod` flags and a loopback HTTP endpoint to change them, until SIGINT/SIGTERM.
 */
export async function dnsCommand(options: CliOptions, io: Io): Promise<number> {
  const dns = await createClusterDns({ port: options.listen, ttl: options.ttl, clusterDomain: options.clusterDomain });
  let control: Server | undefined;
  try {
    for (const pod of options.pods) dns.addPod(pod.service, podSpec(pod));
    control = await startControl(dns, options.control ?? 0);
    const address = control.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    io.out.write(
      options.json
        ? `${JSON.stringify({ nameserver: dns.nameserver, control: url, clusterDomain: dns.clusterDomain })}\n`
        : `nameserver ${dns.nameserver}\ncontrol ${url}\n`,
    );
    await io.stopped;
    return 0;
  } finally {
    if (control !== undefined) {
      control.closeAllConnections();
      await new Promise((resolve) => control?.close(resolve));
    }
    await dns.close();
  }
}

function podSpec(pod: PodFlag): PodSpec {
  const spec: PodSpec = { ip: pod.ip, ports: pod.ports };
  if (pod.name !== undefined) spec.name = pod.name;
  if (pod.namespace !== undefined) spec.namespace = pod.namespace;
  if (pod.ready !== undefined) spec.ready = pod.ready;
  return spec;
}

/** An HTTP error with its status. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The control endpoint, on 127.0.0.1 only:
 * - `POST /pods` `{ service, name?, ip, ports?, namespace?, ready? }`: adds a pod (or replaces
 *   the pod of that name: a restart with a new IP);
 * - `DELETE /pods/<service>/<name or ip>[?namespace=]`: removes it;
 * - `PUT /pods/<service>/<name or ip>/ready[?namespace=]` `{ ready }`: marks it ready or not;
 * - `PUT /failure` `{ mode }`: `'servfail'`, `'refused'`, `'silent'` or `null`;
 * - `GET /`: the nameserver.
 */
async function startControl(dns: ClusterDns, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    handle(dns, req).then(
      (body) => reply(res, 200, body),
      (err: unknown) => {
        const status = err instanceof HttpError ? err.status : err instanceof TypeError ? 400 : 500;
        reply(res, status, { error: err instanceof Error ? err.message : String(err) });
      },
    );
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}

async function handle(dns: ClusterDns, req: IncomingMessage): Promise<unknown> {
  const url = new URL(req.url ?? '/', 'http://control');
  const path = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const namespace = url.searchParams.get('namespace') ?? undefined;
  const route = `${req.method} ${path[0] ?? ''}/${path.length}`;
  if (route === 'GET /0') return { nameserver: dns.nameserver, clusterDomain: dns.clusterDomain };
  if (route === 'POST pods/1') {
    const body = await readJson(req);
    if (typeof body.service !== 'string') throw new TypeError('service: expected the service name');
    dns.addPod(body.service, body as unknown as PodSpec);
    return { added: body.service };
  }
  const [, service = '', pod = ''] = path;
  if (route === 'DELETE pods/3') {
    if (!dns.removePod(service, pod, { namespace })) throw new HttpError(404, `no pod ${pod} in service ${service}`);
    return { removed: pod };
  }
  if (route === 'PUT pods/4' && path[3] === 'ready') {
    const { ready } = await readJson(req);
    if (typeof ready !== 'boolean') throw new TypeError('ready: expected true or false');
    try {
      dns.setReady(service, pod, ready, { namespace });
    } catch (err) {
      throw new HttpError(404, err instanceof Error ? err.message : String(err));
    }
    return { pod, ready };
  }
  if (route === 'PUT failure/1') {
    const { mode } = await readJson(req);
    dns.setFailure((mode ?? null) as FailureMode);
    return { failure: mode ?? null };
  }
  throw new HttpError(404, `no route ${req.method} ${url.pathname}`);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > MAX_BODY) throw new HttpError(413, `body over ${MAX_BODY} bytes`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, `expected a JSON object, got ${JSON.stringify(text.slice(0, 80))}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'expected a JSON object');
  }
  return body as Record<string, unknown>;
}
