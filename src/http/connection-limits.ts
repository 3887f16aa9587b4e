import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/** What a request id from a client must look like to be kept (UUIDs, ULIDs, trace ids): else it is replaced. */
const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * Each request's id, decided once: when it arrives (sendRequestId) or when Fastify asks (genReqId). Kept on
 * the request itself under a symbol rather than in a WeakMap, whose entries the collector traces as ephemerons.
 */
const REQUEST_ID_KEY = Symbol('requestId');
type WithRequestId = IncomingMessage & { [REQUEST_ID_KEY]?: string };

/**
 * The request's id: the client's `X-Request-Id` when it looks like an id, else a new UUID. An id goes into
 * every log line and back in the `x-request-id` header, so a header of any shape (newlines, megabytes, text)
 * is never trusted verbatim.
 */
export function requestIdOf(request: IncomingMessage): string {
  const carrier = request as WithRequestId;
  let id = carrier[REQUEST_ID_KEY];
  if (id === undefined) {
    const given = request.headers['x-request-id'];
    id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    carrier[REQUEST_ID_KEY] = id;
  }
  return id;
}

/**
 * Every response carries the request id as `x-request-id`, the id its error body and log lines carry. It is
 * set on the raw response as the request arrives, before Fastify's own handler, so that answers Fastify
 * writes itself (the 503 while closing) have it too; the hook does the same for `inject`, which bypasses the
 * server.
 */
export function sendRequestId(app: FastifyInstance): void {
  app.server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
    response.setHeader('x-request-id', requestIdOf(request));
  });
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
}

/**
 * Node's header and request timeouts, so that a client trickling its headers or body is disconnected within
 * the configured times. Node checks them every `connectionsCheckingInterval`, so each is shortened by that
 * interval: the client is gone by the configured time, not up to an interval later.
 */
export function slowClientTimeouts(server: { headersTimeoutMs: number; requestTimeoutMs: number }) {
  const interval = Math.max(10, Math.min(1000, Math.floor(server.headersTimeoutMs / 10)));
  return {
    requestTimeout: server.requestTimeoutMs - interval,
    http: {
      headersTimeout: server.headersTimeoutMs - interval,
      requestTimeout: server.requestTimeoutMs - interval,
      connectionsCheckingInterval: interval,
    },
  };
}
