import type grpcJs from '@grpc/grpc-js';

type Grpc = typeof grpcJs;

/** A unary method answering which server took the call, JSON on the wire (no protobuf needed). */
const definition = {
  who: {
    path: '/test.Echo/Who',
    requestStream: false,
    responseStream: false,
    requestSerialize: (value: object) => Buffer.from(JSON.stringify(value)),
    requestDeserialize: (buf: Buffer) => JSON.parse(buf.toString()) as object,
    responseSerialize: (value: { from: string }) => Buffer.from(JSON.stringify(value)),
    responseDeserialize: (buf: Buffer) => JSON.parse(buf.toString()) as { from: string },
  },
};

/** A gRPC server standing for one pod. */
export interface EchoServer {
  host: string;
  port: number;
  calls: number;
  /** Lets calls in flight finish, then stops (a graceful pod shutdown). */
  shutdown(): Promise<void>;
  /** Stops at once, connections cut (a pod that died). */
  kill(): void;
}

export async function startEchoServer(grpc: Grpc, host: string, port = 0): Promise<EchoServer> {
  const server = new grpc.Server();
  const state: EchoServer = {
    host,
    port,
    calls: 0,
    shutdown: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
    kill: () => server.forceShutdown(),
  };
  server.addService(definition as unknown as grpcJs.ServiceDefinition, {
    who: (_call: unknown, callback: (error: null, value: { from: string }) => void) => {
      state.calls++;
      callback(null, { from: host });
    },
  });
  state.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  return state;
}

/** A client on `target` with round_robin, and a call that resolves with the server that took it. */
export function echoClient(grpc: Grpc, target: string): { who(): Promise<string>; close(): void } {
  const Client = grpc.makeGenericClientConstructor(definition as unknown as grpcJs.ServiceDefinition, 'Echo');
  const client = new Client(target, grpc.credentials.createInsecure(), {
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
  }) as unknown as {
    who(request: object, options: object, callback: (err: Error | null, value?: { from: string }) => void): void;
    close(): void;
  };
  return {
    who: () =>
      new Promise((resolve, reject) =>
        client.who({}, { deadline: Date.now() + 3000 }, (err, value) =>
          err || value === undefined ? reject(err ?? new Error('no value')) : resolve(value.from),
        ),
      ),
    close: () => client.close(),
  };
}
