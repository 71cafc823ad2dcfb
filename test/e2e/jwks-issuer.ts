/**
 * A session issuer for the end-to-end tests, served by the test origin: a JWKS with one RS256,
 * ES256 and EdDSA key, a signing endpoint, and key rotation (new key ids; the old keys leave
 * the JWKS).
 */
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

export const E2E_ISSUER = "https://issuer.e2e.test";
export const E2E_AUDIENCE = "portcullis-e2e";
const ALGORITHMS = ["RS256", "ES256", "EdDSA"] as const;
type Algorithm = (typeof ALGORITHMS)[number];

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export class JwksIssuer {
  private keys = new Map<Algorithm, SigningKey>();
  private generation = 0;

  static async create(): Promise<JwksIssuer> {
    const issuer = new JwksIssuer();
    await issuer.rotate();
    return issuer;
  }

  /** Replaces every key with a new one under a new key id. */
  async rotate(): Promise<void> {
    this.generation += 1;
    const next = new Map<Algorithm, SigningKey>();
    for (const alg of ALGORITHMS) {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const kid = `${alg.toLowerCase()}-${this.generation}`;
      next.set(alg, {
        kid,
        privateKey,
        publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" },
      });
    }
    this.keys = next;
  }

  jwks(): { keys: JWK[] } {
    return { keys: [...this.keys.values()].map((key) => key.publicJwk) };
  }

  /** A session token for `sub`, signed with the current key of `alg`. */
  async sign(alg: Algorithm, claims: Record<string, unknown>, expiresInSeconds = 3_600): Promise<string> {
    const key = this.keys.get(alg);
    if (!key) throw new Error(`no ${alg} key`);
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg, kid: key.kid })
      .setIssuer(E2E_ISSUER)
      .setAudience(E2E_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + expiresInSeconds)
      .sign(key.privateKey);
  }
}
