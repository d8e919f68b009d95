import { connect } from 'node:net';
import { DnsError } from './errors.js';
import { FrameReader, frame } from './framing.js';
import { type EncodedQuestion, judgeResponse, type Verdict, withId } from './message.js';
import type { Nameserver } from './nameserver.js';

/** One question over TCP (RFC 7766 framing: a 2-byte length before each message). */
export interface TcpExchange {
  server: Nameserver;
  question: EncodedQuestion;
  id: number;
  /** Covers connect and read together. */
  timeout: number;
  signal: AbortSignal | undefined;
}

/**
 * Sends the question over a fresh TCP connection and resolves with the first message that
 * answers it. Messages that do not match are dropped, as over UDP.
 */
export function exchangeTcp(
  exchange: TcpExchange,
  inFlight: Set<(reason: unknown) => void>,
): Promise<Verdict & { kind: 'answer' }> {
  const { server, question, id, timeout, signal } = exchange;
  const { name, type } = question;
  const query = withId(question, id);
  return new Promise((resolve, reject) => {
    const details = { hostname: name, server: server.label };
    const socket = connect({ host: server.host, port: server.port, family: server.family });
    const reader = new FrameReader();
    let malformed: string | undefined;
    let done = false;
    const finish = (error: DnsError | undefined, verdict?: Verdict & { kind: 'answer' }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      inFlight.delete(cancel);
      socket.destroy();
      if (error) reject(error);
      else if (verdict) resolve(verdict);
    };
    const cancel = (reason: unknown) =>
      finish(new DnsError('ECANCELLED', 'query cancelled', { ...details, cause: reason }));
    const onAbort = () => cancel(signal?.reason);
    inFlight.add(cancel);
    const timer = setTimeout(() => {
      finish(
        malformed === undefined
          ? new DnsError('ETIMEOUT', `no answer over TCP within ${timeout} ms`, details)
          : new DnsError('EBADRESP', `bad answer over TCP: ${malformed}`, details),
      );
    }, timeout);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.setNoDelay(true);
    socket.write(frame(query));
    socket.on('data', (chunk: Buffer) => {
      for (const message of reader.push(chunk)) {
        const verdict = judgeResponse(message, id, name, type, question.section);
        if (verdict.kind === 'answer') return finish(undefined, verdict);
        if (verdict.kind === 'malformed') malformed = verdict.reason;
        // TC over TCP means the answer exceeds 64 KB: nothing complete will come.
        if (verdict.kind === 'truncated') {
          return finish(new DnsError('EBADRESP', 'answer truncated even over TCP', details));
        }
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code === 'ECONNREFUSED' ? 'ECONNREFUSED' : 'EBADRESP';
      finish(new DnsError(code, `TCP ${err.code ?? 'error'}`, { ...details, cause: err }));
    });
    socket.on('close', () => {
      finish(new DnsError('EBADRESP', 'TCP connection closed before a complete answer', details));
    });
  });
}
