import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import type { IssuerConfig } from './auth-config.js';
import { createLocalReplayMemory, type ReplayMemory } from './replay-memory.js';

/** The calling CDS client, once its token has been verified. */
export interface VerifiedClient {
  readonly iss: string;
  readonly tenant: string | undefined;
  readonly jti: string;
  /** The FHIR base URLs this client may name as fhirServer. */
  readonly fhirServers: readonly string[];
}

/**
 * Thrown for any token we do not accept. The reason goes to the log only: the client gets a bare 401
 * (CDS Hooks best practice: no detail on authentication failures).
 */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
}

export interface JwtVerifierOptions {
  readonly issuers: readonly IssuerConfig[];
  readonly algorithms: readonly string[];
  readonly clockSkewSeconds: number;
  readonly maxTokenAgeSeconds: number;
  readonly jwksCooldownMs: number;
  /** For tests; the global fetch otherwise. */
  readonly fetch?: typeof fetch | undefined;
  readonly now?: () => Date;
  /** Where accepted jtis are kept (shared by the replicas in production); this process's memory otherwise. */
  readonly replayMemory?: ReplayMemory | undefined;
}

export interface JwtVerifier {
  /** Verifies a bearer token for a call to the endpoint whose public URL is `audience`. */
  verify(token: string, audience: string): Promise<VerifiedClient>;
}

const FORBIDDEN_ALGORITHM = /^(none|HS\d+)$/i;
/** A jti names one token: anything longer is not an id (and would bloat the replay memory). */
const MAX_JTI_LENGTH = 256;

/**
 * CDS Hooks 2.0 client authentication: trusted issuers only, their keys only (pinned keys first; a jku header
 * is followed only for a kid they do not have, and only when allowlisted for that issuer), asymmetric algorithms, aud equal to the endpoint called, exp and iat with a
 * small skew, and each jti accepted once for the token's lifetime.
 * See {@link https://cds-hooks.hl7.org/2.0/#trusting-cds-clients | Trusting CDS Clients}.
 */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const now = options.now ?? (() => new Date());
  const remoteSets = new Map<string, JWTVerifyGetKey>();
  const remote = (url: string): JWTVerifyGetKey => {
    let keySet = remoteSets.get(url);
    if (!keySet) {
      // jose caches the set and refetches it when a token names a kid it has not seen (at most once per cooldown).
      keySet = createRemoteJWKSet(new URL(url), {
        timeoutDuration: 3000,
        cooldownDuration: options.jwksCooldownMs,
        cacheMaxAge: 600_000,
        ...(options.fetch ? { [customFetch]: options.fetch } : {}),
      });
      remoteSets.set(url, keySet);
    }
    return keySet;
  };
  const localSets = new Map(
    options.issuers.flatMap((issuer) =>
      issuer.jwks ? [[issuer.iss, createLocalJWKSet(issuer.jwks as never)] as const] : [],
    ),
  );
  const localKids = new Map(
    options.issuers.map((issuer) => [
      issuer.iss,
      new Set(
        (issuer.jwks?.keys ?? []).flatMap((key) => (typeof key['kid'] === 'string' ? [key['kid']] : [])),
      ),
    ]),
  );
  const issuers = new Map(options.issuers.map((issuer) => [issuer.iss, issuer]));
  const replayMemory = options.replayMemory ?? createLocalReplayMemory(now);

  return {
    async verify(token, audience) {
      let header: ReturnType<typeof decodeProtectedHeader>;
      let unverified: ReturnType<typeof decodeJwt>;
      try {
        header = decodeProtectedHeader(token);
        unverified = decodeJwt(token);
      } catch {
        throw new AuthenticationError('malformed token');
      }
      const algorithm = header.alg ?? '';
      if (FORBIDDEN_ALGORITHM.test(algorithm)) {
        throw new AuthenticationError(`forbidden algorithm ${algorithm}`);
      }
      const issuer = typeof unverified.iss === 'string' ? issuers.get(unverified.iss) : undefined;
      if (!issuer) {
        throw new AuthenticationError('untrusted issuer');
      }
      const algorithms = [...(issuer.algorithms ?? options.algorithms)];
      if (!algorithms.includes(algorithm)) {
        throw new AuthenticationError(`algorithm ${algorithm} not allowed`);
      }
      if (!header.kid) {
        throw new AuthenticationError('no kid');
      }
      // Pinned keys first: a kid among the issuer's local keys is verified with them whatever the jku says,
      // so a client that always sends a jku (the CDS Hooks Sandbox) is verified offline. A jku is followed
      // only for a kid the local keys do not have, and only when allowlisted.
      const local = localSets.get(issuer.iss);
      let keys: JWTVerifyGetKey | undefined;
      if (local && localKids.get(issuer.iss)?.has(header.kid)) {
        keys = local;
      } else if (header.jku !== undefined) {
        if (!issuer.jkuAllowlist.includes(header.jku)) {
          throw new AuthenticationError('jku not allowed for this issuer');
        }
        keys = remote(header.jku);
      } else {
        keys = local ?? (issuer.jwksUrl ? remote(issuer.jwksUrl) : undefined);
      }
      if (!keys) {
        throw new AuthenticationError('no key source for this issuer without jku');
      }
      let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
      try {
        ({ payload } = await jwtVerify(token, keys, {
          algorithms,
          issuer: issuer.iss,
          audience,
          clockTolerance: options.clockSkewSeconds,
          maxTokenAge: options.maxTokenAgeSeconds,
          requiredClaims: ['exp', 'iat', 'jti'],
          currentDate: now(),
        }));
      } catch (error) {
        throw new AuthenticationError(describeJoseError(error));
      }
      const tenant = typeof payload['tenant'] === 'string' ? payload['tenant'] : undefined;
      if (issuer.tenants && (!tenant || !issuer.tenants.includes(tenant))) {
        throw new AuthenticationError('tenant not allowed');
      }
      const { jti } = payload;
      if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
        throw new AuthenticationError(`jti must be a string of 1 to ${MAX_JTI_LENGTH} characters`);
      }
      const expiresAt =
        Math.min(payload.exp ?? 0, (payload.iat ?? 0) + options.maxTokenAgeSeconds) +
        options.clockSkewSeconds;
      if (!(await replayMemory.remember(`${issuer.iss} ${jti}`, expiresAt))) {
        throw new AuthenticationError('replayed jti');
      }
      return { iss: issuer.iss, tenant, jti, fhirServers: issuer.fhirServers };
    },
  };
}

function describeJoseError(error: unknown): string {
  if (error instanceof errors.JWTExpired) {
    return 'expired';
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return `claim ${error.claim} failed: ${error.reason}`;
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return 'unknown kid';
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return 'bad signature';
  }
  if (error instanceof errors.JOSEError) {
    return error.code;
  }
  return 'key set unavailable';
}
