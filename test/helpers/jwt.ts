import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

export interface TestKey {
  readonly alg: 'ES384' | 'RS384';
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export async function makeKey(alg: 'ES384' | 'RS384', kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface TokenClaims {
  iss?: string;
  aud?: string | string[];
  jti?: string;
  exp?: number;
  iat?: number;
  tenant?: string;
  jku?: string;
  kid?: string;
}

/** A CDS Hooks client JWT as the spec describes it: alg, kid, typ JWT; iss, aud, exp, iat, jti. */
export async function signToken(key: TestKey, claims: TokenClaims): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ ...(claims.tenant ? { tenant: claims.tenant } : {}) })
    .setProtectedHeader({
      alg: key.alg,
      kid: claims.kid ?? key.kid,
      typ: 'JWT',
      ...(claims.jku ? { jku: claims.jku } : {}),
    })
    .setIssuer(claims.iss ?? 'https://ehr.example.org')
    .setIssuedAt(claims.iat ?? now)
    .setExpirationTime(claims.exp ?? now + 300)
    .setJti(claims.jti ?? crypto.randomUUID());
  if (claims.aud !== undefined) {
    jwt.setAudience(claims.aud);
  }
  return jwt.sign(key.privateKey);
}

const base64url = (value: string | Uint8Array): string => Buffer.from(value).toString('base64url');

/** An unsigned token with alg "none". */
export function unsignedToken(payload: Record<string, unknown>, kid: string): string {
  return `${base64url(JSON.stringify({ alg: 'none', kid, typ: 'JWT' }))}.${base64url(JSON.stringify(payload))}.`;
}

/** The classic key-confusion attack: HS256 with the public key as the shared secret. */
export async function hmacWithPublicKey(
  publicJwk: JWK,
  payload: Record<string, unknown>,
  kid: string,
): Promise<string> {
  const { createHmac } = await import('node:crypto');
  const header = base64url(JSON.stringify({ alg: 'HS256', kid, typ: 'JWT' }));
  const body = base64url(JSON.stringify(payload));
  const signature = createHmac('sha256', JSON.stringify(publicJwk)).update(`${header}.${body}`).digest();
  return `${header}.${body}.${base64url(signature)}`;
}
