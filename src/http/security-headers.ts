import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

/**
 * Helmet's response headers for this service (no Content-Security-Policy: it serves JSON; cross-origin
 * reads allowed: browser clients such as the CDS Hooks Sandbox call it). With these options every header is
 * a constant, so helmet runs once, at start-up, into a plain object that each reply takes whole: running its
 * middleware on every call set eleven headers one by one on the raw response.
 */
export function securityHeaders(): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: () => undefined,
  };
  helmet({ contentSecurityPolicy: false, crossOriginResourcePolicy: { policy: 'cross-origin' } })(
    // Helmet reads nothing of the request.
    null as unknown as IncomingMessage,
    recorder as unknown as ServerResponse,
    () => undefined,
  );
  return headers;
}
