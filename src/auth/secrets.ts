// Secrets: generation, hashing and constant-time comparison. Secrets are uniformly random and
// long (≥ 166 bits), so one SHA-256 is the right hash: nothing to slow down a guesser against,
// and a deterministic hash keeps lookup O(1) (decision 0010). Never logs or stores a secret.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** SHA-256 output length; every stored hash has exactly this many bytes. */
export const SECRET_HASH_BYTES = 32;
/** CAVE's token shape: 56 random letters and digits (Token.createToken), ~333 bits. */
export const CAVE_TOKEN_CHARS = 56;
/** OneNET's APIKey length (28 characters), ~166 bits; firmware buffers are sized for it. */
export const ONENET_KEY_CHARS = 28;
/** The admin token: 32 random bytes, base64url (43 characters). */
export const ADMIN_TOKEN_BYTES = 32;
/** Longer presented secrets are refused before hashing (no real secret is near this). */
export const MAX_PRESENTED_SECRET_CHARS = 512;

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` characters drawn uniformly from [A-Za-z0-9] (rejection sampling, no modulo bias). */
export function randomAlphanumeric(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length)) {
      if (byte >= 248) continue; // 248 = 4 × 62: keep only bytes that map evenly
      out += ALPHANUMERIC[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export function newCaveToken(): string {
  return randomAlphanumeric(CAVE_TOKEN_CHARS);
}

export function newOneNetKey(): string {
  return randomAlphanumeric(ONENET_KEY_CHARS);
}

export function newAdminToken(): string {
  return randomBytes(ADMIN_TOKEN_BYTES).toString('base64url');
}

/** SHA-256 of the secret's UTF-8 bytes. */
export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Constant-time equality of two stored/computed hashes (false if the lengths differ). */
export function hashesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
