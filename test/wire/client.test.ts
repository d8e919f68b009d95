import { createSocket, Socket } from 'node:dgram';
import { getEventListeners, once, setMaxListeners } from 'node:events';
import { Socket as TcpSocket } from 'node:net';
import { encode } from 'dns-packet';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DnsClient } from '../../src/wire/client.js';
import { DnsError } from '../../src/wire/errors.js';
import { frame } from '../../src/wire/framing.js';
import { aRecord, responseTo, type ScriptedServer, startScriptedServer } from '../support/scripted-server.js';
import { until } from '../watch/helpers.js';

const NAME = 'web.default.svc.cluster.local';

/**
 * Makes the second `connect()` on sockets of `prototype` (UDP or TCP) throw 'connect failed',
 * the others connect as usual. Returns how many were called; undone by `vi.restoreAllMocks()`.
 */
function failSecondConnect(prototype: Socket | TcpSocket): () => number {
  const connect = prototype.connect as (...args: unknown[]) => unknown;
  let connects = 0;
  vi.spyOn(prototype as { connect: (...args: unknown[]) => unknown }, 'connect').mockImplementation(function (
    this: unknown,
    ...args: unknown[]
  ) {
    if (++connects === 2) throw new Error('connect failed');
    return connect.apply(this, args);
  });
  return () => connects;
}

/**
 * Makes the client's UDP sends (any socket's but `serverSocket`) whose number, from 1,
 * `fails` picks fail with EPERM, as Node reports a failed send: to its callback. Returns
 * each send's fate, `'sent'` or `'failed'`.
 */
function failSends(serverSocket: Socket, fails: (n: number) => boolean): string[] {
  const send = Socket.prototype.send;
  const sends: string[] = [];
  vi.spyOn(Socket.prototype, 'send').mockImplementation(function (this: Socket, ...args: unknown[]) {
    if (this === serverSocket) return (send as (...a: unknown[]) => void).apply(this, args);
    const failed = fails(sends.length + 1);
    sends.push(failed ? 'failed' : 'sent');
    if (!failed) return (send as (...a: unknown[]) => void).apply(this, args);
    const callback = args.at(-1);
    if (typeof callback === 'function')
      process.nextTick(callback, Object.assign(new Error('send EPERM'), { code: 'EPERM' }));
  });
  return sends;
}

function activeSockets(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'UDPWrap' || kind === 'TCPSocketWrap').length;
}

describe('DnsClient', () => {
  let server: ScriptedServer;
  let client: DnsClient;
  beforeEach(async () => {
    server = await startScriptedServer();
    client = new DnsClient({ nameservers: [server.nameserver], timeout: 300, attempts: 1, search: [], ndots: 1 });
  });
  afterEach(async () => {
    client.close();
    await server.close();
  });

  it('sends EDNS0 with a 1232-byte payload and recursion desired', async () => {
    let opt: unknown;
    server.onUdp((ex) => {
      opt = ex.query.additionals?.find((record) => record.type === 'OPT');
      ex.reply({ answers: [aRecord(NAME, '10.0.0.1')] });
    });
    expect(await client.resolveA(NAME)).toEqual(['10.0.0.1']);
    expect(opt).toMatchObject({ type: 'OPT', udpPayloadSize: 1232 });
  });

  it('uses random IDs and does not keep one source port for ever', async () => {
    const ids = new Set<number>();
    const ports = new Set<number>();
    server.onUdp((ex) => {
      ids.add(ex.query.id ?? -1);
      ports.add(ex.rinfo.port);
      ex.reply({ answers: [aRecord(NAME, '10.0.0.1')] });
    });
    for (let i = 0; i < 1100; i++) await client.query(NAME, 'A');
    expect(ids.size).toBeGreaterThan(1000);
    expect(ports.size).toBeGreaterThanOrEqual(3);
  });

  it('drops answers with a wrong ID, a wrong question or QR=0, and takes the real one after them', async () => {
    server.onUdp((ex) => {
      const id = ex.query.id ?? 0;
      ex.send(responseTo({ ...ex.query, id: (id + 1) & 0xffff }, { answers: [aRecord(NAME, '6.6.6.1')] }));
      ex.send(
        responseTo(
          { ...ex.query, questions: [{ type: 'A', name: 'evil.example', class: 'IN' }] },
          {
            answers: [aRecord('evil.example', '6.6.6.2')],
          },
        ),
      );
      ex.send(responseTo({ ...ex.query, questions: [{ type: 'AAAA', name: NAME, class: 'IN' }] }));
      ex.send(encode({ type: 'query', id, questions: ex.query.questions, answers: [aRecord(NAME, '6.6.6.3')] }));
      setTimeout(() => ex.reply({ answers: [aRecord(NAME, '10.0.0.7')] }), 20);
    });
    expect(await client.resolveA(NAME)).toEqual(['10.0.0.7']);
  });

  it('matches the question name case-insensitively', async () => {
    server.onUdp((ex) => {
      ex.reply({
        questions: [{ type: 'A', name: NAME.toUpperCase(), class: 'IN' }],
        answers: [aRecord(NAME, '10.0.0.2')],
      });
    });
    expect(await client.resolveA(NAME)).toEqual(['10.0.0.2']);
  });

  it('ignores an answer from another source address and port', async () => {
    const spoofer = createSocket('udp4');
    spoofer.bind(0, '127.0.0.2');
    await once(spoofer, 'listening');
    server.onUdp((ex) => {
      spoofer.send(responseTo(ex.query, { answers: [aRecord(NAME, '6.6.6.6')] }), ex.rinfo.port, ex.rinfo.address);
      setTimeout(() => ex.reply({ answers: [aRecord(NAME, '10.0.0.3')] }), 30);
    });
    expect(await client.resolveA(NAME)).toEqual(['10.0.0.3']);
    spoofer.close();
  });

  it('times out with ETIMEOUT when only foreign answers come, and EBADRESP when a matching one is malformed', async () => {
    server.onUdp((ex) => ex.send(responseTo({ ...ex.query, id: ((ex.query.id ?? 0) + 7) & 0xffff })));
    await expect(client.query(NAME, 'A')).rejects.toMatchObject({ code: 'ETIMEOUT', server: server.nameserver });
    server.onUdp((ex) => {
      const good = responseTo(ex.query, { answers: [aRecord(NAME, '10.0.0.1')] });
      ex.send(good.subarray(0, good.length - 3));
    });
    await expect(client.query(NAME, 'A')).rejects.toMatchObject({ code: 'EBADRESP' });
  });

  it('repeats a truncated question over TCP and never returns the truncated answer', async () => {
    server.onUdp((ex) => ex.reply({ flags: 1 << 9, answers: [aRecord(NAME, '10.0.0.1')] }));
    server.onTcp((ex) => ex.reply({ answers: [aRecord(NAME, '10.0.0.1'), aRecord(NAME, '10.0.0.2')] }));
    const result = await client.query(NAME, 'A');
    expect(result).toMatchObject({ truncated: true, tcp: true, status: 'records' });
    expect(result.answers.map((record) => ('data' in record ? record.data : undefined))).toEqual([
      '10.0.0.1',
      '10.0.0.2',
    ]);
    expect(server.tcpQueries).toBe(1);
    expect(client.stats).toMatchObject({ truncations: 1, tcpFallbacks: 1 });
  });

  it('fails a truncated answer whose TCP retry dies mid-answer, rather than using the partial one', async () => {
    server.onUdp((ex) => ex.reply({ flags: 1 << 9, answers: [aRecord(NAME, '10.0.0.1')] }));
    server.onTcp((ex) => {
      const full = responseTo(ex.query, { answers: [aRecord(NAME, '10.0.0.1'), aRecord(NAME, '10.0.0.2')] });
      const frame = Buffer.alloc(2 + full.length);
      frame.writeUInt16BE(full.length, 0);
      full.copy(frame, 2);
      ex.sendRawAndClose(frame.subarray(0, 20)); // a length prefix that promises more than comes
    });
    const error = await client.query(NAME, 'A').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DnsError);
    // The failure came over TCP after a truncated answer: a truncation, no fallback that answered.
    expect(error).toMatchObject({ code: 'EBADRESP', truncated: true });
    expect(client.stats).toMatchObject({ truncations: 1, tcpFallbacks: 0 });
  });

  it('goes to the next nameserver on SERVFAIL and REFUSED, and reports the last failure', async () => {
    const second = await startScriptedServer();
    second.onUdp((ex) => ex.reply({ answers: [aRecord(NAME, '10.0.0.9')] }));
    const rotating = new DnsClient({ nameservers: [server.nameserver, second.nameserver], timeout: 300, attempts: 2 });
    try {
      server.onUdp((ex) => ex.reply({ rcode: 2 }));
      expect(await rotating.resolveA(NAME)).toEqual(['10.0.0.9']);
      second.onUdp((ex) => ex.reply({ rcode: 5 }));
      await expect(rotating.query(NAME, 'A')).rejects.toMatchObject({ code: 'ESERVFAIL', rcode: 'SERVFAIL' });
    } finally {
      rotating.close();
      await second.close();
    }
  });

  it('classifies NXDOMAIN and NODATA with the negative TTL of the SOA', async () => {
    const soa = {
      type: 'SOA' as const,
      name: 'cluster.local',
      ttl: 30,
      class: 'IN' as const,
      data: { mname: 'ns', rname: 'h', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 7 },
    };
    server.onUdp((ex) => ex.reply({ rcode: 3, authorities: [soa] }));
    expect(await client.query(NAME, 'A')).toMatchObject({ status: 'nxdomain', rcode: 'NXDOMAIN', ttl: 7 });
    await expect(client.resolveA(NAME)).rejects.toMatchObject({ code: 'ENOTFOUND', retryable: false });
    server.onUdp((ex) => ex.reply({ authorities: [soa] }));
    expect(await client.query(NAME, 'A')).toMatchObject({ status: 'nodata', ttl: 7 });
    await expect(client.resolveA(NAME)).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('follows a CNAME inside the answer and ignores records for other names', async () => {
    server.onUdp((ex) =>
      ex.reply({
        answers: [
          { type: 'CNAME', name: NAME, ttl: 5, class: 'IN', data: 'real.default.svc.cluster.local' },
          aRecord('real.default.svc.cluster.local', '10.0.0.4'),
          aRecord('other.example', '6.6.6.6'),
        ],
      }),
    );
    expect(await client.resolveA(NAME)).toEqual(['10.0.0.4']);
  });

  it('cancels a query through its AbortSignal', async () => {
    server.onUdp(() => {});
    const controller = new AbortController();
    const pending = client.query(NAME, 'A', { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    await expect(pending).rejects.toMatchObject({ code: 'ECANCELLED' });
    await expect(client.query(NAME, 'A', { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ECANCELLED',
    });
  });

  it('on one signal, queries in flight and waiting their turn cancel, and leave no listener behind', async () => {
    server.onUdp(() => {}); // never answers
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    // 200 queries: 128 out, 72 waiting their turn, all listening to the one signal.
    const outcomes = Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        client
          .query(`shared-${i}.${NAME}`, 'A', { remember: false, signal: controller.signal })
          .catch((err: DnsError) => err.code),
      ),
    );
    controller.abort();
    expect(await outcomes).toEqual(Array(200).fill('ECANCELLED'));
    // Answered queries take their listener with them: a long-lived signal does not fill up.
    server.onUdp((ex) => ex.reply({ answers: [aRecord(NAME, '10.0.3.1')] }));
    const watcherLike = new AbortController();
    setMaxListeners(0, watcherLike.signal);
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 50 }, () => client.query(NAME, 'A', { signal: watcherLike.signal })));
    }
    expect(getEventListeners(watcherLike.signal, 'abort')).toHaveLength(0);
  });

  it('keeps at most 128 datagrams out to a nameserver and sends the rest as answers come back', async () => {
    // The server holds every query until none has come for 20 ms, then answers them all:
    // the most it ever holds is the most the client had out at once.
    const held: Parameters<Parameters<ScriptedServer['onUdp']>[0]>[0][] = [];
    let most = 0;
    let flush: NodeJS.Timeout | undefined;
    server.onUdp((ex) => {
      held.push(ex);
      most = Math.max(most, held.length);
      clearTimeout(flush);
      flush = setTimeout(() => {
        for (const waiting of held.splice(0)) {
          const name = waiting.query.questions?.[0]?.name ?? '';
          waiting.reply({ answers: [aRecord(name, '10.0.2.1')] });
        }
      }, 20);
    });
    // A timeout no loaded machine reaches: five batches of 128, each held 20 ms.
    const patient = new DnsClient({
      nameservers: [server.nameserver],
      timeout: 10_000,
      attempts: 1,
      search: [],
      ndots: 1,
    });
    try {
      const names = Array.from({ length: 600 }, (_, i) => `burst-${i}.${NAME}`);
      const answers = await Promise.all(names.map((name) => patient.resolveA(name, { remember: false })));
      expect(answers).toHaveLength(600);
      expect(server.udpQueries).toBe(600);
      expect(most).toBe(128);
    } finally {
      patient.close();
    }
  });

  it('fails a waiting query it could not send within the timeout, and cancels waiting ones', async () => {
    server.onUdp(() => {}); // never answers
    const controller = new AbortController();
    const started = performance.now();
    const outcomes = Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        client
          .query(`wait-${i}.${NAME}`, 'A', { remember: false, signal: i >= 990 ? controller.signal : undefined })
          .catch((err: DnsError) => err.code),
      ),
    );
    controller.abort();
    const codes = await outcomes;
    // 10 cancelled while waiting, never sent; the others timed out: the first 128 sent at
    // once, the rest only while time was left of their own timeout, which counts from when
    // they were asked.
    expect(codes.filter((code) => code === 'ECANCELLED')).toHaveLength(10);
    expect(codes.filter((code) => code === 'ETIMEOUT')).toHaveLength(990);
    expect(server.udpQueries).toBeGreaterThanOrEqual(128);
    expect(server.udpQueries).toBeLessThanOrEqual(990);
    // About one attempt's timeout (300 ms), not one per batch of 128 (eight: 2.4 s).
    expect(performance.now() - started).toBeLessThan(4 * 300);
    // close() cancels those waiting to be sent as well as those out.
    const burst = Array.from({ length: 200 }, (_, i) =>
      client.query(`close-${i}.${NAME}`, 'A', { remember: false }).catch((err: DnsError) => err.code),
    );
    client.close();
    expect(await Promise.all(burst)).toEqual(Array(200).fill('ECANCELLED'));
  });

  it('with tcp: true, carries many queries on one pipelined connection, answered in any order', async () => {
    const waiting: Parameters<Parameters<ScriptedServer['onTcp']>[0]>[0][] = [];
    const ports = new Set<number>();
    server.onTcp((ex) => {
      ports.add(ex.rinfo.port);
      waiting.push(ex);
      if (waiting.length < 50) return;
      // Every query is in before any answer goes out, and the answers go out last first.
      for (const held of waiting.reverse()) {
        const name = held.query.questions?.[0]?.name ?? '';
        held.reply({ answers: [aRecord(name, `10.0.1.${Number(name.split('.')[0]?.slice(4))}`)] });
      }
    });
    const names = Array.from({ length: 50 }, (_, i) => `pod-${i}.${NAME}`);
    const answers = await Promise.all(names.map((name) => client.resolveA(name, { tcp: true, remember: false })));
    expect(answers).toEqual(names.map((_, i) => [`10.0.1.${i}`]));
    expect(ports.size).toBe(1);
    expect(server.udpQueries).toBe(0);
    const result = await client.query(names[0] as string, 'A', { tcp: true });
    expect(result).toMatchObject({ tcp: true, truncated: false });
  });

  it('fails every query on a TCP connection that dies, and the next attempt opens a new one', async () => {
    const retrying = new DnsClient({ nameservers: [server.nameserver], timeout: 500, attempts: 2 });
    const ports: number[] = [];
    server.onTcp((ex) => {
      if (ports.length === 0) setTimeout(() => ex.sendRawAndClose(Buffer.alloc(0)), 20);
      if (!ports.includes(ex.rinfo.port)) ports.push(ex.rinfo.port);
      if (ex.rinfo.port !== ports[0]) ex.reply({ answers: [aRecord(NAME, '10.0.0.7')] });
    });
    try {
      const results = await Promise.all(Array.from({ length: 5 }, () => retrying.resolveA(NAME, { tcp: true })));
      expect(results).toEqual(Array.from({ length: 5 }, () => ['10.0.0.7']));
      expect(ports).toHaveLength(2);
    } finally {
      retrying.close();
    }
  });

  it('answers every query when the server closes the TCP connection after each answer, without spending an attempt', async () => {
    // A query written while the server's FIN is on its way is asked again on a new connection.
    const retrying = new DnsClient({ nameservers: [server.nameserver], timeout: 500, attempts: 1 });
    server.onTcp((ex) => {
      const name = ex.query.questions?.[0]?.name ?? '';
      ex.sendRawAndClose(frame(responseTo(ex.query, { answers: [aRecord(name, '10.0.0.9')] })));
    });
    try {
      for (let i = 0; i < 40; i++) {
        expect(await retrying.resolveA(`pod-${i}.${NAME}`, { tcp: true })).toEqual(['10.0.0.9']);
      }
      expect(retrying.stats.failures).toBe(0);
    } finally {
      retrying.close();
    }
  });

  it('fails an orphaned TCP query, not the process, when asking it again throws', async () => {
    // Two queries on one connection; the server answers the first and closes it. The second,
    // orphaned, is asked again on a new connection, whose connect() throws here.
    let answered = 0;
    server.onTcp((ex) => {
      if (answered++ > 0) return;
      const name = ex.query.questions?.[0]?.name ?? '';
      ex.sendRawAndClose(frame(responseTo(ex.query, { answers: [aRecord(name, '10.0.0.9')] })));
    });
    const connects = failSecondConnect(TcpSocket.prototype);
    try {
      const stalled = new Promise((resolve) => setTimeout(resolve, 1000, 'stalled'));
      const outcomes = Promise.all(
        ['a', 'b'].map((label) => client.resolveA(`${label}.${NAME}`, { tcp: true }).catch((err: unknown) => err)),
      );
      expect(await Promise.race([outcomes, stalled])).toEqual([
        ['10.0.0.9'],
        expect.objectContaining({ code: 'EBADRESP', cause: expect.objectContaining({ message: 'connect failed' }) }),
      ]);
      expect(connects()).toBe(2);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('times out over TCP with ETIMEOUT naming TCP', async () => {
    server.onTcp(() => {});
    await expect(client.query(NAME, 'A', { tcp: true })).rejects.toMatchObject({
      code: 'ETIMEOUT',
      message: expect.stringContaining('over TCP'),
    });
  });

  it('close() cancels queries in flight over UDP and TCP and leaves no socket behind', async () => {
    const before = activeSockets();
    server.onUdp((ex) => {
      if (ex.query.questions?.[0]?.type === 'A') ex.reply({ flags: 1 << 9 });
    });
    server.onTcp(() => {});
    const udpPending = client.query(NAME, 'AAAA');
    const tcpPending = client.query(NAME, 'A');
    // Both in flight: the AAAA over UDP, the A asked again over TCP.
    await until(() => server.udpQueries === 2 && server.tcpQueries === 1, 'both queries in flight');
    client.close();
    client.close();
    await expect(udpPending).rejects.toMatchObject({ code: 'ECANCELLED' });
    await expect(tcpPending).rejects.toMatchObject({ code: 'ECANCELLED' });
    await until(() => activeSockets() <= before, 'the sockets to close');
    await expect(client.query(NAME, 'A')).rejects.toMatchObject({ code: 'ECANCELLED' });
  });

  it('reports ECONNREFUSED quickly with several queries in flight to a closed port', async () => {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    const closed = `127.0.0.1:${socket.address().port}`;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    const refused = new DnsClient({ nameservers: [closed], timeout: 2000, attempts: 2 });
    try {
      const started = performance.now();
      const results = await Promise.all(
        ['A', 'AAAA', 'SRV', 'PTR'].map((type) => refused.query(NAME, type as 'A').catch((err: unknown) => err)),
      );
      // The ICMP error left by one datagram is reported by the next send: none may be lost.
      // Four: were the sends after the first unchecked, the second would swallow the first's
      // error and the fourth the third's, leaving none for the receive path.
      expect(results).toEqual([0, 1, 2, 3].map(() => expect.objectContaining({ code: 'ECONNREFUSED' })));
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      refused.close();
    }
  });

  it('asks again on a fresh socket when a send fails with queries in flight on the same nameserver', async () => {
    // The queries settled by a failing socket are asked again from a later microtask: asked
    // at once, they would go out on the socket that is closing and never be answered.
    let firstPort: number | undefined;
    server.onUdp((ex) => {
      firstPort ??= ex.rinfo.port;
      if (ex.rinfo.port !== firstPort)
        ex.reply({ answers: [aRecord(ex.query.questions?.[0]?.name ?? '', '10.0.0.7')] });
    });
    // The first socket's first send (checked) fails; its other two queries go out on it before
    // the error comes back.
    const sends = failSends(server.udp, (n) => n === 1);
    const twice = new DnsClient({ nameservers: [server.nameserver], timeout: 1000, attempts: 2, search: [], ndots: 1 });
    try {
      const names = ['a', 'b', 'c'].map((label) => `${label}.${NAME}`);
      const stalled = new Promise((resolve) => setTimeout(resolve, 800, 'stalled'));
      const answers = await Promise.race([Promise.all(names.map((name) => twice.resolveA(name))), stalled]);
      expect(answers).toEqual([['10.0.0.7'], ['10.0.0.7'], ['10.0.0.7']]);
      expect(sends[0]).toBe('failed');
    } finally {
      vi.restoreAllMocks();
      twice.close();
    }
  });

  it('fails a query at once, naming the cause, when its datagram cannot be sent', async () => {
    failSends(server.udp, () => true);
    const patient = new DnsClient({
      nameservers: [server.nameserver],
      timeout: 5000,
      attempts: 1,
      search: [],
      ndots: 1,
    });
    try {
      const started = performance.now();
      const outcome = await patient.query(NAME, 'A').catch((err: unknown) => err);
      expect(outcome).toMatchObject({ code: 'EBADRESP', cause: expect.objectContaining({ code: 'EPERM' }) });
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      vi.restoreAllMocks();
      patient.close();
    }
  });

  it('fails the query, not the process, when a UDP socket cannot connect', async () => {
    vi.spyOn(Socket.prototype, 'connect').mockImplementation(function (this: Socket, ...args: unknown[]) {
      const callback = args.at(-1) as (err: Error) => void;
      process.nextTick(callback, Object.assign(new Error('connect EACCES'), { code: 'EACCES' }));
    });
    const twice = new DnsClient({ nameservers: [server.nameserver], timeout: 1000, attempts: 2, search: [], ndots: 1 });
    try {
      const stalled = new Promise((resolve) => setTimeout(resolve, 800, 'stalled'));
      const outcome = await Promise.race([twice.resolveA(NAME).catch((err: unknown) => err), stalled]);
      expect(outcome).toMatchObject({
        code: 'EBADRESP',
        message: expect.stringContaining('UDP EACCES'),
        cause: expect.objectContaining({ code: 'EACCES' }),
      });
      expect(twice.stats.failures).toBe(1);
    } finally {
      vi.restoreAllMocks();
      twice.close();
    }
  });

  it('ends a query whose next attempt waits as its client closes with ECANCELLED, not a failure', async () => {
    const twice = new DnsClient({ nameservers: [server.nameserver], timeout: 1000, attempts: 2, search: [], ndots: 1 });
    // The first socket cannot connect; the client closes right after, before the next attempt starts.
    vi.spyOn(Socket.prototype, 'connect').mockImplementation(function (this: Socket, ...args: unknown[]) {
      const callback = args.at(-1) as (err: Error) => void;
      process.nextTick(() => {
        callback(Object.assign(new Error('connect EACCES'), { code: 'EACCES' }));
        twice.close();
      });
    });
    try {
      await expect(twice.query(NAME, 'A')).rejects.toMatchObject({ code: 'ECANCELLED' });
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('fails a query, not the process, when starting its next attempt throws', async () => {
    const second = await startScriptedServer();
    // The first nameserver stays silent: the second attempt goes to the other one, on a
    // socket of its own, whose connect() throws here.
    server.onUdp(() => {});
    const rotating = new DnsClient({ nameservers: [server.nameserver, second.nameserver], timeout: 100, attempts: 2 });
    const connects = failSecondConnect(Socket.prototype);
    try {
      const stalled = new Promise((resolve) => setTimeout(resolve, 1000, 'stalled'));
      const outcome = await Promise.race([rotating.query(NAME, 'A').catch((err: unknown) => err), stalled]);
      expect(outcome).toMatchObject({
        code: 'EBADRESP',
        cause: expect.objectContaining({ message: 'connect failed' }),
      });
      expect(connects()).toBe(2);
    } finally {
      vi.restoreAllMocks();
      rotating.close();
      await second.close();
    }
  });

  it('rejects bad names and options with a TypeError naming them', () => {
    expect(() => new DnsClient({ nameservers: ['not-an-ip'] })).toThrow(/nameservers: "not-an-ip"/);
    expect(() => new DnsClient({ nameservers: ['127.0.0.1:70000'] })).toThrow(/nameservers: .*port/);
    expect(() => new DnsClient({ nameservers: ['[10.0.0.1]:53'] })).toThrow(TypeError);
    expect(() => new DnsClient({ nameservers: [] })).toThrow(/nameservers/);
    expect(() => new DnsClient({ nameservers: ['::1'], timeout: -1 })).toThrow(/timeout: .*-1/);
    expect(() => new DnsClient({ nameservers: ['::1'], attempts: 0 })).toThrow(/attempts/);
    expect(() => new DnsClient({ nameservers: ['::1'], udpPayloadSize: 100 })).toThrow(/udpPayloadSize/);
    expect(() => new DnsClient({ nameservers: ['::1'], search: ['a..b'] })).toThrow(/search/);
    return Promise.all([
      expect(client.query('', 'A')).rejects.toThrow(/name: must not be empty/),
      expect(client.query(`${'a'.repeat(64)}.example`, 'A')).rejects.toThrow(/label/),
      expect(client.query(`${'abcdefghi.'.repeat(26)}x`, 'A')).rejects.toThrow(/longer than 253/),
      // Names go out as UTF-8: 40 characters of two bytes each make an 80-byte label, whose
      // length byte would read as a compression flag on the wire.
      expect(client.query(`${'é'.repeat(40)}.example`, 'A')).rejects.toThrow(/label .*longer than 63 bytes/),
      expect(client.query(Array(5).fill('é'.repeat(30)).join('.'), 'A')).rejects.toThrow(/longer than 253 bytes/),
      expect(client.query(NAME, 'A', { tcp: 'yes' as never })).rejects.toThrow(
        /tcp: expected true or false, got "yes"/,
      ),
      expect(client.query(NAME, 'A', { remember: 1 as never })).rejects.toThrow(/remember: expected true or false/),
      expect(client.query(NAME, 'A', { signal: {} as never })).rejects.toThrow(/signal: expected an AbortSignal/),
      expect(client.query(NAME, 'A', null as never)).rejects.toThrow(/options: expected an object, got null/),
    ]);
  });
});
