// What the credential store knows: CAVE organisations, teams and tokens; OneNET products,
// devices and API keys; the admin token's hash. State changes only by applying transactions of
// operations, the same ones the log holds, so a replay of the log rebuilds exactly this.
// Holds hashes only, never a secret. No I/O here.
import { SECRET_HASH_BYTES } from './secrets.js';

/** A token or key id: unique across the store and never reused, even after a revoke. */
export type CredentialId = number & { readonly __brand: 'CredentialId' };

export type CaveScope = 'publish' | 'read';
export const CAVE_SCOPES: readonly CaveScope[] = ['publish', 'read'];
export type OneNetPermission = 'read' | 'write';
export const ONENET_PERMISSIONS: readonly OneNetPermission[] = ['read', 'write'];

/**
 * Organisation, team, product and device names: CAVE accepts a name that URL-encoding leaves
 * unchanged ([A-Za-z0-9._*-]); we drop `.` and `*` and cap at 63 characters, because names are
 * labels of the Host shortcut (`team.org.domain.tld`) and parts of the `CAVE-account` tag
 * (`team.org`), where a dot would let org `b` team `c.a` collide with org `a.b` team `c`.
 */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,63}$/;
/** Longest token/key description and device title, characters. */
export const MAX_LABEL_CHARS = 256;

export interface OrgEntry {
  readonly name: string;
  readonly createdMs: number;
}
export interface TeamEntry {
  readonly org: string;
  readonly name: string;
  readonly createdMs: number;
}
/** What a valid CAVE token is allowed: publish and/or read for one organisation or one team. */
export interface CaveGrant {
  readonly tokenId: CredentialId;
  readonly org: string;
  /** Set for a team token; an organisation token has none. */
  readonly team?: string;
  readonly scopes: ReadonlySet<CaveScope>;
}
/** What anyone may see of a CAVE token: everything but the secret and its hash. */
export interface CaveTokenInfo {
  readonly id: CredentialId;
  readonly org: string;
  /** Set for a team token. */
  readonly team?: string;
  readonly scopes: readonly CaveScope[];
  readonly description: string;
  readonly createdMs: number;
}
export interface CaveTokenEntry {
  readonly info: CaveTokenInfo;
  /** SHA-256 of the secret; SECRET_HASH_BYTES long. */
  readonly hash: Buffer;
  readonly grant: CaveGrant;
}
export interface ProductEntry {
  readonly name: string;
  readonly createdMs: number;
}
export interface DeviceEntry {
  readonly id: string;
  readonly product: string;
  readonly title: string;
  readonly createdMs: number;
}
/** What a valid OneNET API key is allowed: read and/or write on one product's devices or one device. */
export interface OneNetGrant {
  readonly keyId: CredentialId;
  readonly product: string;
  /** Set for a device key; a product-wide key (the master key among them) has none. */
  readonly device?: string;
  readonly permissions: ReadonlySet<OneNetPermission>;
  /** The key created with the product (OneNET's "Master APIKey"). */
  readonly master: boolean;
}
/** What anyone may see of a OneNET API key: everything but the secret and its hash. */
export interface OneNetKeyInfo {
  readonly id: CredentialId;
  readonly product: string;
  /** Set for a device key. */
  readonly device?: string;
  readonly permissions: readonly OneNetPermission[];
  readonly master: boolean;
  readonly description: string;
  readonly createdMs: number;
}
export interface OneNetKeyEntry {
  readonly info: OneNetKeyInfo;
  /** SHA-256 of the secret; SECRET_HASH_BYTES long. */
  readonly hash: Buffer;
  readonly grant: OneNetGrant;
}
export interface AdminEntry {
  readonly createdMs: number;
  readonly hash: Buffer;
}

/** One change, as stored in the log (JSON in a checksummed record; docs/decisions/0010). */
export type CredentialOp =
  | { readonly op: 'org.create'; readonly org: string }
  | { readonly op: 'org.delete'; readonly org: string }
  | { readonly op: 'team.create'; readonly org: string; readonly team: string }
  | { readonly op: 'team.delete'; readonly org: string; readonly team: string }
  | {
      readonly op: 'cave.token.create';
      readonly id: number;
      readonly org: string;
      readonly team?: string;
      readonly scopes: readonly CaveScope[];
      readonly description: string;
      readonly sha256: string;
    }
  | { readonly op: 'cave.token.revoke'; readonly id: number }
  | { readonly op: 'onenet.product.create'; readonly product: string }
  | { readonly op: 'onenet.device.create'; readonly product: string; readonly device: string; readonly title: string }
  | {
      readonly op: 'onenet.key.create';
      readonly id: number;
      readonly product: string;
      readonly device?: string;
      readonly permissions: readonly OneNetPermission[];
      readonly master: boolean;
      readonly description: string;
      readonly sha256: string;
    }
  | { readonly op: 'onenet.key.revoke'; readonly id: number }
  | { readonly op: 'admin.token.set'; readonly sha256: string };

/** All operations of one CLI or API call: written as one record, so they land together or not at all. */
export interface Transaction {
  /** 1 for the first record of a log, then +1 per record: a gap or repeat is damage. */
  readonly seq: number;
  /** Wall clock of the change, ms since the Unix epoch; the creation time of what it creates. */
  readonly atMs: number;
  readonly ops: readonly CredentialOp[];
}

/** A transaction that does not apply to the state before it (the log is damaged or mixed up). */
export class ReplayError extends Error {
  override name = 'ReplayError';
}

function teamKey(org: string, team: string): string {
  return `${org}/${team}`;
}

function hashFromHex(hex: string): Buffer {
  const hash = Buffer.from(hex, 'hex');
  if (hash.length !== SECRET_HASH_BYTES || hash.toString('hex') !== hex) throw new ReplayError(`bad sha256 ${JSON.stringify(hex)}`);
  return hash;
}

/**
 * The store's state. Maps are replaced wholesale by `clone()` + apply, never edited in place by
 * anyone but `apply`; entries are immutable. Ids only grow (`nextId`), insertion order = id order.
 */
export class CredentialState {
  seq = 0;
  nextId = 1;
  admin: AdminEntry | undefined;
  readonly orgs = new Map<string, OrgEntry>();
  /** Keyed by `org/team`. */
  readonly teams = new Map<string, TeamEntry>();
  readonly caveTokens = new Map<CredentialId, CaveTokenEntry>();
  /** Keyed by the hex SHA-256 of the secret. */
  readonly caveByHash = new Map<string, CaveTokenEntry>();
  readonly products = new Map<string, ProductEntry>();
  /** Device ids are global: `/devices/{id}` names no product. */
  readonly devices = new Map<string, DeviceEntry>();
  readonly oneNetKeys = new Map<CredentialId, OneNetKeyEntry>();
  readonly oneNetByHash = new Map<string, OneNetKeyEntry>();

  clone(): CredentialState {
    const c = new CredentialState();
    c.seq = this.seq;
    c.nextId = this.nextId;
    c.admin = this.admin;
    for (const [from, to] of [
      [this.orgs, c.orgs],
      [this.teams, c.teams],
      [this.caveTokens, c.caveTokens],
      [this.caveByHash, c.caveByHash],
      [this.products, c.products],
      [this.devices, c.devices],
      [this.oneNetKeys, c.oneNetKeys],
      [this.oneNetByHash, c.oneNetByHash],
    ] as [Map<unknown, unknown>, Map<unknown, unknown>][]) {
      for (const [k, v] of from) to.set(k, v);
    }
    return c;
  }

  team(org: string, team: string): TeamEntry | undefined {
    return this.teams.get(teamKey(org, team));
  }

  /** Tokens of one organisation (team undefined) or one team, in id order. */
  caveTokensOf(org: string, team: string | undefined): CaveTokenEntry[] {
    return [...this.caveTokens.values()].filter((t) => t.info.org === org && t.info.team === team);
  }

  /** Throws ReplayError when `txn` is not the next transaction or one of its operations does not apply. */
  applyTransaction(txn: Transaction): void {
    if (txn.seq !== this.seq + 1) throw new ReplayError(`transaction ${txn.seq} follows ${this.seq}`);
    for (const op of txn.ops) this.apply(op, txn.atMs);
    this.seq = txn.seq;
  }

  private takeId(id: number): CredentialId {
    if (id < this.nextId) throw new ReplayError(`id ${id} reused (next is ${this.nextId})`);
    this.nextId = id + 1;
    return id as CredentialId;
  }

  private apply(op: CredentialOp, atMs: number): void {
    switch (op.op) {
      case 'org.create':
        if (this.orgs.has(op.org)) throw new ReplayError(`organization ${op.org} created twice`);
        this.orgs.set(op.org, { name: op.org, createdMs: atMs });
        return;
      case 'org.delete': {
        if (!this.orgs.has(op.org)) throw new ReplayError(`unknown organization ${op.org}`);
        if ([...this.teams.values()].some((t) => t.org === op.org)) throw new ReplayError(`organization ${op.org} deleted with teams`);
        for (const t of this.caveTokensOf(op.org, undefined)) this.dropCaveToken(t);
        this.orgs.delete(op.org);
        return;
      }
      case 'team.create':
        if (!this.orgs.has(op.org)) throw new ReplayError(`unknown organization ${op.org}`);
        if (this.teams.has(teamKey(op.org, op.team))) throw new ReplayError(`team ${op.org}/${op.team} created twice`);
        this.teams.set(teamKey(op.org, op.team), { org: op.org, name: op.team, createdMs: atMs });
        return;
      case 'team.delete':
        if (!this.teams.has(teamKey(op.org, op.team))) throw new ReplayError(`unknown team ${op.org}/${op.team}`);
        for (const t of this.caveTokensOf(op.org, op.team)) this.dropCaveToken(t);
        this.teams.delete(teamKey(op.org, op.team));
        return;
      case 'cave.token.create': {
        if (!this.orgs.has(op.org)) throw new ReplayError(`unknown organization ${op.org}`);
        if (op.team !== undefined && !this.teams.has(teamKey(op.org, op.team))) throw new ReplayError(`unknown team ${op.org}/${op.team}`);
        if (this.caveByHash.has(op.sha256)) throw new ReplayError(`token hash stored twice`);
        const id = this.takeId(op.id);
        const team = op.team !== undefined ? { team: op.team } : {};
        const entry: CaveTokenEntry = {
          info: { id, org: op.org, ...team, scopes: [...op.scopes], description: op.description, createdMs: atMs },
          hash: hashFromHex(op.sha256),
          grant: { tokenId: id, org: op.org, ...team, scopes: new Set(op.scopes) },
        };
        this.caveTokens.set(id, entry);
        this.caveByHash.set(op.sha256, entry);
        return;
      }
      case 'cave.token.revoke': {
        const t = this.caveTokens.get(op.id as CredentialId);
        if (!t) throw new ReplayError(`unknown token ${op.id}`);
        this.dropCaveToken(t);
        return;
      }
      case 'onenet.product.create':
        if (this.products.has(op.product)) throw new ReplayError(`product ${op.product} created twice`);
        this.products.set(op.product, { name: op.product, createdMs: atMs });
        return;
      case 'onenet.device.create':
        if (!this.products.has(op.product)) throw new ReplayError(`unknown product ${op.product}`);
        if (this.devices.has(op.device)) throw new ReplayError(`device ${op.device} created twice`);
        this.devices.set(op.device, { id: op.device, product: op.product, title: op.title, createdMs: atMs });
        return;
      case 'onenet.key.create': {
        if (!this.products.has(op.product)) throw new ReplayError(`unknown product ${op.product}`);
        if (op.device !== undefined && this.devices.get(op.device)?.product !== op.product) {
          throw new ReplayError(`device ${op.device} is not in product ${op.product}`);
        }
        if (this.oneNetByHash.has(op.sha256)) throw new ReplayError(`key hash stored twice`);
        const id = this.takeId(op.id);
        const device = op.device !== undefined ? { device: op.device } : {};
        const entry: OneNetKeyEntry = {
          info: { id, product: op.product, ...device, permissions: [...op.permissions], master: op.master, description: op.description, createdMs: atMs },
          hash: hashFromHex(op.sha256),
          grant: { keyId: id, product: op.product, ...device, permissions: new Set(op.permissions), master: op.master },
        };
        this.oneNetKeys.set(id, entry);
        this.oneNetByHash.set(op.sha256, entry);
        return;
      }
      case 'onenet.key.revoke': {
        const k = this.oneNetKeys.get(op.id as CredentialId);
        if (!k) throw new ReplayError(`unknown key ${op.id}`);
        this.oneNetKeys.delete(k.info.id);
        this.oneNetByHash.delete(k.hash.toString('hex'));
        return;
      }
      case 'admin.token.set':
        this.admin = { createdMs: atMs, hash: hashFromHex(op.sha256) };
        return;
    }
  }

  private dropCaveToken(t: CaveTokenEntry): void {
    this.caveTokens.delete(t.info.id);
    this.caveByHash.delete(t.hash.toString('hex'));
  }
}
