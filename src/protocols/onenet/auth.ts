// Who may touch a OneNET device (protocols.md §4.1, §7 "Tenants"): a key of the device's product
// with no device binding (the master key among them), or a key bound to that very device, holding
// the permission the method needs. Everything else — no key, an unknown or revoked key (the store
// answers undefined), a key of another product or bound to another device, an unknown device — is
// refused alike, so an answer never tells whether a device exists. Pure: the route looks the
// grant and the device up in the credential store and asks here.
import type { OneNetGrant, OneNetPermission } from '../../auth/index.js';

/** The header OneNET clients send the key in (`api-key: KEY`, often `api-key:KEY`). */
export const API_KEY_HEADER = 'api-key';

/** Whether `grant` lets its holder use `permission` on the device `deviceId` of `deviceProduct` (undefined: no such device). */
export function grantCovers(grant: OneNetGrant | undefined, deviceId: string, deviceProduct: string | undefined, permission: OneNetPermission): boolean {
  if (grant === undefined || deviceProduct === undefined) return false;
  if (grant.product !== deviceProduct) return false;
  if (grant.device !== undefined && grant.device !== deviceId) return false;
  return grant.permissions.has(permission);
}

/** The key as presented: the header value without surrounding blanks (uWS keeps inner spaces). */
export function presentedKey(headerValue: string | undefined): string {
  return (headerValue ?? '').trim();
}
