/**
 * FHIR URLs as the service compares them: parsed, never as strings. A string prefix lets
 * `https://fhir.example.org/r4/..%2f..%2fadmin` pass for `https://fhir.example.org/r4/` (issue 15), so
 * every check that decides where the bearer token may go goes through here.
 */
export interface FhirUrl {
  /** Scheme, host (both lower-case) and port (default ports dropped), as WHATWG URL gives them. */
  readonly origin: string;
  /** Percent-decoded path segments, without empty ones. */
  readonly segments: readonly string[];
  /** The URL to call, with the path as given (servers differ in how they decode it). */
  readonly href: string;
}

/**
 * Parses a URL for an origin-and-path comparison, or says why it cannot be used: not http(s), credentials in
 * it, a path segment that is not valid percent-encoding, or one that decodes to `.`, `..` or contains a
 * slash or backslash (a server that decodes before routing would walk out of the base).
 */
export function parseFhirUrl(raw: string, base?: string): FhirUrl | string {
  let url: URL;
  try {
    url = base === undefined ? new URL(raw) : new URL(raw, base);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return 'is not an http or https URL';
  }
  if (url.username !== '' || url.password !== '') {
    return 'carries credentials';
  }
  const segments: string[] = [];
  for (const segment of url.pathname.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return 'has a path that is not valid percent-encoding';
    }
    if (decoded === '.' || decoded === '..' || /[/\\]/.test(decoded)) {
      return 'has a path that leaves its base after decoding';
    }
    if (decoded !== '') {
      segments.push(decoded);
    }
  }
  url.hash = '';
  return { origin: url.origin, segments, href: url.href };
}

/** Whether `url` is `base` itself or below it: same scheme, host and port, and the base's path segments first. */
export function isUnder(url: FhirUrl, base: FhirUrl): boolean {
  return (
    url.origin === base.origin &&
    url.segments.length >= base.segments.length &&
    base.segments.every((segment, index) => url.segments[index] === segment)
  );
}
