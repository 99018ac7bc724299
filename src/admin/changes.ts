// The credential changes the admin API can make, as plain data (they cross to the writer thread
// by postMessage), and applyChange, which performs one on a store — the same store calls the CLI
// makes (src/cli/commands.ts). What a change returns is what the API answers: a new secret appears
// here once and nowhere else.
import type { CredentialStore } from '../auth/index.js';

export type AdminChange =
  | { readonly op: 'org.create'; readonly org: string; readonly scopes?: readonly string[] }
  | { readonly op: 'org.delete'; readonly org: string }
  | { readonly op: 'team.create'; readonly org: string; readonly team: string; readonly scopes?: readonly string[] }
  | { readonly op: 'team.delete'; readonly org: string; readonly team: string }
  | { readonly op: 'cave.token.create'; readonly org: string; readonly team?: string; readonly scopes: readonly string[]; readonly description?: string }
  | { readonly op: 'cave.token.revoke'; readonly org: string; readonly team?: string; readonly id: number }
  | { readonly op: 'onenet.product.create'; readonly product: string }
  | { readonly op: 'onenet.device.create'; readonly product: string; readonly device: string; readonly title?: string }
  | {
      readonly op: 'onenet.key.create';
      readonly product: string;
      readonly device?: string;
      readonly permissions: readonly string[];
      readonly description?: string;
    }
  | { readonly op: 'onenet.key.revoke'; readonly product: string; readonly id: number };

/**
 * Performs `change` (synchronously: lock, re-read, append, fsync). Returns the created credential
 * (with its secret), the created device, or undefined for a delete/revoke. Throws CredentialError.
 */
export function applyChange(store: CredentialStore, change: AdminChange): unknown {
  switch (change.op) {
    case 'org.create':
      return store.createOrg(change.org, change.scopes !== undefined ? { scopes: change.scopes } : {});
    case 'org.delete':
      return store.deleteOrg(change.org);
    case 'team.create':
      return store.createTeam(change.org, change.team, change.scopes !== undefined ? { scopes: change.scopes } : {});
    case 'team.delete':
      return store.deleteTeam(change.org, change.team);
    case 'cave.token.create':
      return store.createCaveToken(change.org, {
        scopes: change.scopes,
        ...(change.team !== undefined ? { team: change.team } : {}),
        ...(change.description !== undefined ? { description: change.description } : {}),
      });
    case 'cave.token.revoke':
      return store.revokeCaveToken(change.org, change.id, change.team !== undefined ? { team: change.team } : {});
    case 'onenet.product.create':
      return store.createProduct(change.product);
    case 'onenet.device.create':
      return store.createDevice(change.product, change.device, change.title !== undefined ? { title: change.title } : {});
    case 'onenet.key.create':
      return store.createOneNetKey(change.product, {
        permissions: change.permissions,
        ...(change.device !== undefined ? { device: change.device } : {}),
        ...(change.description !== undefined ? { description: change.description } : {}),
      });
    case 'onenet.key.revoke':
      return store.revokeOneNetKey(change.product, change.id);
  }
}
