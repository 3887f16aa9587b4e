import type { onRequestAsyncHookHandler } from 'fastify';
import { AuthenticationError, type JwtVerifier, type VerifiedClient } from '../auth/jwt-verifier.js';
import { UnauthorizedError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified CDS client; null when the service runs unauthenticated (loopback only). */
    cdsClient: VerifiedClient | null;
  }
}

/**
 * Verifies the CDS client's JWT on every CDS endpoint. `aud` must be the public URL of the endpoint called,
 * built from the configured base URL (never the Host header, which a proxy may rewrite).
 */
export function createAuthHook(
  verifier: JwtVerifier | null,
  options: { publicBaseUrl: string; protectDiscovery: boolean },
): onRequestAsyncHookHandler {
  return async (request) => {
    if (!verifier || request.method === 'OPTIONS') {
      return;
    }
    const path = request.url.split('?')[0] ?? '';
    if (path === '/cds-services' && !options.protectDiscovery) {
      return;
    }
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (!match?.[1]) {
      throw new UnauthorizedError('no bearer token');
    }
    try {
      request.cdsClient = await verifier.verify(match[1], `${options.publicBaseUrl}${path}`);
    } catch (error) {
      if (error instanceof AuthenticationError) {
        throw new UnauthorizedError(error.message);
      }
      throw error;
    }
  };
}
