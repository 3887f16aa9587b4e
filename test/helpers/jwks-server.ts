import type { JWK } from 'jose';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface JwksServer {
  readonly url: string;
  readonly requests: string[];
  setKeys(keys: JWK[]): void;
  close(): Promise<void>;
}

/** Serves a JWKS over HTTP on loopback, and records who asked. */
export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  let current = keys;
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(request.url ?? '/');
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: current }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
    requests,
    setKeys: (next) => {
      current = next;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}
