import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';

/** What a request id from a client must look like to be kept (UUIDs, ULIDs, trace ids): else it is replaced. */
const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * The request's id: the client's `X-Request-Id` when it looks like an id, else a new UUID. An id goes into
 * every log line, so a header of any shape (newlines, megabytes, text) is never trusted verbatim.
 */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
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
