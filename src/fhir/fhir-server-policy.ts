import { isLoopbackHost } from '../auth/auth-config.js';
import { normaliseBaseUrl } from './fhir-reader.js';

/**
 * Whether the service may call a request's fhirServer (and send it the access token). A caller-supplied URL
 * is a server-side request forgery and token-leak risk, so it must be on an allowlist: base URLs matched as
 * prefixes, or "loopback" for any loopback address. Outside loopback only https is called, unless the deployment
 * opts in for a private network (a compose file's FHIR server).
 */
export function fhirServerRefusal(
  fhirServer: string,
  allowlist: readonly string[],
  options: { allowInsecureHttp?: boolean } = {},
): string | undefined {
  let url: URL;
  try {
    url = new URL(fhirServer);
  } catch {
    return 'fhirServer is not a URL';
  }
  const loopback = isLoopbackHost(url.hostname);
  if (!loopback && url.protocol !== 'https:' && !options.allowInsecureHttp) {
    return 'fhirServer must use https outside loopback';
  }
  if (loopback && allowlist.includes('loopback')) {
    return undefined;
  }
  const base = normaliseBaseUrl(url.toString());
  const allowed = allowlist.some((entry) => entry !== 'loopback' && base.startsWith(normaliseBaseUrl(entry)));
  return allowed ? undefined : 'fhirServer is not on the allowlist for this client';
}
