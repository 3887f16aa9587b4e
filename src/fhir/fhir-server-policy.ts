import { isLoopbackHost } from '../auth/auth-config.js';
import { isUnder, parseFhirUrl } from './fhir-url.js';

/**
 * Whether the service may call a request's fhirServer (and send it the access token). A caller-supplied URL
 * is a server-side request forgery and token-leak risk, so it must be on an allowlist: base URLs (the
 * fhirServer must be one of them or below it, compared as parsed URLs), or "loopback" for any loopback
 * address. Outside loopback only https is called, unless the deployment opts in for a private network (a
 * compose file's FHIR server).
 */
export function fhirServerRefusal(
  fhirServer: string,
  allowlist: readonly string[],
  options: { allowInsecureHttp?: boolean } = {},
): string | undefined {
  const url = parseFhirUrl(fhirServer);
  if (typeof url === 'string') {
    return `fhirServer ${url}`;
  }
  const loopback = isLoopbackHost(new URL(url.href).hostname);
  if (!loopback && !url.origin.startsWith('https:') && !options.allowInsecureHttp) {
    return 'fhirServer must use https outside loopback';
  }
  if (loopback && allowlist.includes('loopback')) {
    return undefined;
  }
  const allowed = allowlist.some((entry) => {
    const base = entry === 'loopback' ? undefined : parseFhirUrl(entry);
    return typeof base === 'object' && isUnder(url, base);
  });
  return allowed ? undefined : 'fhirServer is not on the allowlist for this client';
}
