// Admin API request bodies and path ids: JSON objects with exactly the fields a route names, each
// of a fixed kind, checked before any change is made. Pure: bytes in, fields or an AdminError out.
// The store checks the values themselves (names, scopes, lengths) and answers with its own messages.
import { CredentialErrorCode } from '../auth/index.js';
import { AdminError } from './envelope.js';

/** Admin bodies are a few hundred bytes; anything near this is not an admin request. */
export const ADMIN_MAX_BODY_BYTES = 64 * 1024;

/** `string`: a JSON string; `strings`: a JSON array of strings (scopes, permissions). `?`: may be absent. */
export type FieldKind = 'string' | 'string?' | 'strings' | 'strings?';
export type FieldSpec = Readonly<Record<string, FieldKind>>;
export type Fields = Readonly<Record<string, string | readonly string[] | undefined>>;

function invalid(message: string): AdminError {
  return new AdminError(CredentialErrorCode.Invalid, message);
}

/**
 * Decodes a UTF-8 JSON object body holding only the fields of `spec`, of their kinds. An empty body
 * counts as `{}`. Throws AdminError(Invalid) naming the first problem.
 */
export function parseBody(bytes: Uint8Array, spec: FieldSpec): Fields {
  let json: unknown = {};
  if (bytes.byteLength > 0) {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw invalid('The request body is not UTF-8.');
    }
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw invalid(`The request body is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid('The request body must be a JSON object.');
  const body = json as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (!Object.hasOwn(spec, key)) {
      const known = Object.keys(spec);
      throw invalid(`Unknown field '${key}'${known.length ? ` (expected ${known.map((k) => `'${k}'`).join(', ')})` : ''}.`);
    }
  }
  const fields: Record<string, string | readonly string[] | undefined> = {};
  for (const [key, kind] of Object.entries(spec)) {
    const value = body[key];
    const optional = kind.endsWith('?');
    if (value === undefined) {
      if (!optional) throw invalid(`Field '${key}' is missing.`);
      continue;
    }
    if (kind.startsWith('strings')) {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw invalid(`Field '${key}' must be an array of strings.`);
      fields[key] = value as string[];
    } else {
      if (typeof value !== 'string') throw invalid(`Field '${key}' must be a string.`);
      fields[key] = value;
    }
  }
  return fields;
}

/** A token or key id from a path segment: a positive decimal integer (as the CLI accepts). */
export function parseId(segment: string, what: string): number {
  if (!/^[1-9]\d{0,14}$/.test(segment)) throw invalid(`The ${what} id must be a positive integer, got '${segment}'.`);
  return Number(segment);
}
