// Comparing credential stores by everything they answer: listings, and what each known secret
// authenticates as. Two stores with equal answers are the same store as far as anyone can tell.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AUTH_DIR, CREDENTIAL_LOG_FILE, CredentialStore } from '../../src/auth/index.js';

export function logPathOf(dataDir: string): string {
  return path.join(dataDir, AUTH_DIR, CREDENTIAL_LOG_FILE);
}

/** Every listing, and the grant of every secret in `secrets`, of the store as it is now. */
export function storeAnswers(store: CredentialStore, secrets: readonly string[] = []): unknown {
  const orgs = store.listOrgs();
  const products = store.listProducts();
  return {
    orgs,
    teams: orgs.map((o) => store.listTeams(o.name)),
    orgTokens: orgs.map((o) => store.listCaveTokens(o.name)),
    teamTokens: orgs.map((o) => store.listTeams(o.name).map((t) => store.listCaveTokens(o.name, t.name))),
    products,
    devices: products.map((p) => store.listDevices(p.name)),
    keys: products.map((p) => store.listOneNetKeys(p.name)),
    grants: secrets.map((s) => [store.authenticateCaveToken(s), store.authenticateOneNetKey(s), store.authenticateAdminToken(s)]),
  };
}

/** Answers of a store freshly opened from the data directory (what a restart would see). */
export function reopenedAnswers(dataDir: string, secrets: readonly string[] = []): unknown {
  return storeAnswers(CredentialStore.open(dataDir, { log: () => undefined }), secrets);
}

/** A copy of `fromDir`'s credential log, cut to `lengthBytes`, as the only file of `toDir`. */
export function copyLogTruncated(fromDir: string, toDir: string, lengthBytes: number): void {
  const bytes = fs.readFileSync(logPathOf(fromDir));
  fs.mkdirSync(path.join(toDir, AUTH_DIR), { recursive: true });
  fs.writeFileSync(logPathOf(toDir), bytes.subarray(0, lengthBytes));
}
