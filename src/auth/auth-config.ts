import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Never trusted, whatever the configuration says (CDS Hooks 2.0 §Trusting CDS Clients). */
const FORBIDDEN_ALGORITHM = /^(none|HS\d+)$/i;

export const AlgorithmsSchema = z
  .array(z.string().min(1))
  .min(1)
  .refine((algorithms) => !algorithms.some((algorithm) => FORBIDDEN_ALGORITHM.test(algorithm)), {
    message: '"none" and HMAC (HS*) algorithms are never allowed',
  });

const JwksSchema = z.looseObject({ keys: z.array(z.looseObject({ kty: z.string() })).min(1) });

const IssuerSchema = z
  .object({
    /** The `iss` claim this client signs with. */
    iss: z.string().min(1),
    /** Its JWKS: a URL, a local file, or inline keys (exactly one, unless every token carries an allowed jku). */
    jwksUrl: z.url({ protocol: /^https?$/ }).optional(),
    jwksFile: z.string().min(1).optional(),
    jwks: JwksSchema.optional(),
    /** `jku` header values this issuer may point to; any other jku is refused. */
    jkuAllowlist: z.array(z.url({ protocol: /^https?$/ })).default([]),
    /** When set, the token's `tenant` must be one of these. */
    tenants: z.array(z.string().min(1)).optional(),
    /** FHIR base URLs this client's calls may name as `fhirServer` (the token is only sent there). */
    fhirServers: z.array(z.string().min(1)).default([]),
    /** Overrides the global algorithm list for this issuer. */
    algorithms: AlgorithmsSchema.optional(),
  })
  .strict()
  .refine(
    (issuer) =>
      [issuer.jwksUrl, issuer.jwksFile, issuer.jwks].filter((source) => source !== undefined).length <= 1,
    {
      message: 'give at most one of jwksUrl, jwksFile and jwks',
    },
  )
  .refine((issuer) => issuer.jwksUrl ?? issuer.jwksFile ?? issuer.jwks ?? issuer.jkuAllowlist.length > 0, {
    message: 'give jwksUrl, jwksFile or jwks, or a jkuAllowlist',
  });

export const IssuersSchema = z.array(IssuerSchema).min(1);

export type IssuerConfig = Omit<z.infer<typeof IssuerSchema>, 'jwksFile'> & {
  readonly jwksFile?: string | undefined;
};

/** Reads jwksFile entries into inline keys, so the verifier does no file I/O. */
export function resolveJwksFiles(issuers: readonly IssuerConfig[]): IssuerConfig[] {
  return issuers.map((issuer) => {
    if (!issuer.jwksFile) {
      return issuer;
    }
    const parsed = JwksSchema.safeParse(JSON.parse(readFileSync(issuer.jwksFile, 'utf8')));
    if (!parsed.success) {
      throw new Error(`${issuer.jwksFile} is not a JWKS ({"keys": [...]})`);
    }
    return { ...issuer, jwks: parsed.data, jwksFile: undefined };
  });
}

const LOOPBACK_HOSTS = new Set(['localhost', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(host);
}
