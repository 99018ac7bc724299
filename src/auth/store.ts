// The credential store of one data directory: `<data>/auth/credentials.log` (format.ts), its
// writers' lock, and the admin token. Any number of processes may hold it open (the server reads,
// the CLI writes): every change takes the lock, re-reads what others appended, checks, appends
// one record and fsyncs it before returning. Lookups are O(1) from memory and fail closed while
// the log is damaged. Never holds or writes a secret except the admin token's own 0600 file.
import * as path from 'node:path';
import { NodeFileSystem, type FileSystem } from '../../engine/index.js';
import { log as defaultLog, type LogEvent } from '../log.js';
import { ADMIN_TOKEN_FILE, adminTokenFileExposure, readAdminTokenFile, writeAdminTokenFile } from './admin-token.js';
import { CredentialCorruptionError, CredentialError, CredentialErrorCode, credentialIoError } from './errors.js';
import { CREDENTIAL_LOG_FILE, encodeLogHeader, encodeRecord, scanLog, type LogScan } from './format.js';
import { LockFile } from './lock.js';
import {
  CAVE_SCOPES,
  CredentialState,
  MAX_LABEL_CHARS,
  NAME_PATTERN,
  ONENET_PERMISSIONS,
  ReplayError,
  type CaveGrant,
  type CaveScope,
  type CaveTokenInfo,
  type CredentialId,
  type CredentialOp,
  type OneNetGrant,
  type OneNetKeyInfo,
  type OneNetPermission,
  type Transaction,
} from './model.js';
import { MAX_PRESENTED_SECRET_CHARS, hashSecret, hashesEqual, newAdminToken, newCaveToken, newOneNetKey } from './secrets.js';

/** Directory of the store inside the data directory. */
export const AUTH_DIR = 'auth';
export const CREDENTIAL_LOCK_FILE = 'credentials.lock';
/** CAVE's `maxTokens` default: tokens per organisation and per team. */
export const CAVE_MAX_TOKENS = 3;
/** Description of the token made with an organisation or team (CAVE's Token.DefaultName). */
export const DEFAULT_TOKEN_DESCRIPTION = 'default';
export const MASTER_KEY_DESCRIPTION = 'master';
/** A hand-written admin token shorter than this is refused (a generated one has 43 characters). */
export const MIN_ADMIN_TOKEN_CHARS = 32;

export interface CredentialStoreOptions {
  /** File operations of the log and the lock (tests inject faults here). */
  readonly fs?: FileSystem;
  /** CAVE `maxTokens`: tokens per organisation and per team. */
  readonly maxTokensPerOwner?: number;
  /** How long a change waits for another process's lock before failing with Locked. */
  readonly lockWaitMs?: number;
  readonly now?: () => number;
  readonly log?: (event: LogEvent) => void;
}

/** A new credential and its secret: the only time the secret exists outside its holder. */
export type NewSecret<T> = T & { readonly secret: string };
export interface OrgInfo {
  readonly name: string;
  readonly createdMs: number;
  readonly teams: number;
  readonly tokens: number;
}
export interface TeamInfo {
  readonly org: string;
  readonly name: string;
  readonly createdMs: number;
  readonly tokens: number;
}
export interface ProductInfo {
  readonly name: string;
  readonly createdMs: number;
  readonly devices: number;
  readonly keys: number;
}
export interface DeviceInfo {
  readonly id: string;
  readonly product: string;
  readonly title: string;
  readonly createdMs: number;
}

/** Orders listings by name, in code-unit order (the same on every locale). */
function byName(a: { readonly name: string }, b: { readonly name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function fail(code: CredentialErrorCode, message: string): never {
  throw new CredentialError(code, message);
}

function checkName(kind: string, name: string): void {
  if (!NAME_PATTERN.test(name)) {
    fail(CredentialErrorCode.Invalid, `Invalid ${kind} name ${name}. Use 1 to 63 letters, digits, '-' or '_'.`);
  }
}

function checkLabel(kind: string, label: string): void {
  if (label.length > MAX_LABEL_CHARS) fail(CredentialErrorCode.Invalid, `The ${kind} is longer than ${MAX_LABEL_CHARS} characters.`);
}

/** A non-empty set drawn from `allowed`, in `allowed`'s order. */
function checkSet<T extends string>(kind: string, values: readonly string[], allowed: readonly T[]): T[] {
  const bad = values.find((v) => !(allowed as readonly string[]).includes(v));
  if (bad !== undefined || values.length === 0) {
    fail(CredentialErrorCode.Invalid, `Invalid ${kind} ${JSON.stringify(bad ?? '')}: use ${allowed.join(', ')} or a comma-separated list of them.`);
  }
  return allowed.filter((a) => values.includes(a));
}

function caveTokenOp(id: number, org: string, team: string | undefined, scopes: readonly CaveScope[], description: string, secret: string): CredentialOp {
  return { op: 'cave.token.create', id, org, ...(team !== undefined ? { team } : {}), scopes, description, sha256: hashSecret(secret).toString('hex') };
}

function oneNetKeyOp(
  id: number,
  product: string,
  device: string | undefined,
  permissions: readonly OneNetPermission[],
  master: boolean,
  description: string,
  secret: string,
): CredentialOp {
  return {
    op: 'onenet.key.create',
    id,
    product,
    ...(device !== undefined ? { device } : {}),
    permissions,
    master,
    description,
    sha256: hashSecret(secret).toString('hex'),
  };
}

export class CredentialStore {
  readonly dataDir: string;
  readonly dir: string;
  readonly logPath: string;
  readonly adminTokenPath: string;
  private readonly fsys: FileSystem;
  private readonly lock: LockFile;
  private readonly maxTokens: number;
  private readonly now: () => number;
  private readonly log: (event: LogEvent) => void;
  /** Replaced whole on every change (clone + apply), so a failed change leaves it as it was. */
  private state = new CredentialState();
  /** Offset just past the file header and the last applied record; 0 while there is no header. */
  private validEnd = 0;
  /** File size at the last read (-1: never read); an unchanged size means nothing new. */
  private seenBytes = -1;
  /** Set while the log is damaged: every lookup answers "no" until a reload succeeds. */
  private failure: CredentialError | undefined;

  private constructor(dataDir: string, options: CredentialStoreOptions) {
    this.dataDir = path.resolve(dataDir);
    this.dir = path.join(this.dataDir, AUTH_DIR);
    this.logPath = path.join(this.dir, CREDENTIAL_LOG_FILE);
    this.adminTokenPath = path.join(this.dataDir, ADMIN_TOKEN_FILE);
    this.fsys = options.fs ?? new NodeFileSystem();
    this.maxTokens = options.maxTokensPerOwner ?? CAVE_MAX_TOKENS;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? defaultLog;
    this.lock = new LockFile(this.fsys, path.join(this.dir, CREDENTIAL_LOCK_FILE), options.lockWaitMs ?? 5000, (holder) =>
      this.log({ level: 'warn', event: 'auth.stale-lock-removed', holder, message: `removed a stale credential-store lock left by ${holder}` }),
    );
  }

  /**
   * Opens the store of `dataDir` and reads it. Creates nothing (a missing store is empty). Throws
   * CredentialCorruptionError if the log is damaged, CredentialError(Io) if it cannot be read.
   * A torn tail is ignored here and cut by the next change.
   */
  static open(dataDir: string, options: CredentialStoreOptions = {}): CredentialStore {
    const store = new CredentialStore(dataDir, options);
    store.reload();
    return store;
  }

  /**
   * The server's open: like open(), but a damaged or unreadable log does not stop the server. The
   * store comes back failing closed (every CAVE/OneNET/admin lookup answers "no", `healthy` is
   * false), the failure is logged, and `watch()` picks the store up again once it reads cleanly
   * (after `strata auth repair`). KairosDB and OpenTSDB, which need no credentials, keep working.
   */
  static openFailingClosed(dataDir: string, options: CredentialStoreOptions = {}): CredentialStore {
    const store = new CredentialStore(dataDir, options);
    try {
      store.reload();
    } catch (err) {
      store.log({ level: 'error', event: 'auth.open-failed', message: `${(err as Error).message}; CAVE and OneNET requests are refused until it is fixed` });
    }
    return store;
  }

  /**
   * Cuts the log at its first damaged record, keeping every whole record before it, under the
   * lock. Changes made by the records cut are lost (a revoked token may be back): list and
   * revoke again. Refuses (Corruption) when the file header itself is damaged.
   */
  static repair(dataDir: string, options: CredentialStoreOptions = {}): { readonly droppedBytes: number; readonly keptRecords: number } {
    const store = new CredentialStore(dataDir, options);
    return store.withLock(() => store.cutDamage());
  }

  /** False while the log is damaged (lookups then refuse everything). */
  get healthy(): boolean {
    return this.failure === undefined;
  }

  /**
   * Picks up changes other processes appended (cheap when the file size is unchanged). On
   * damage, throws and fails closed until a later reload succeeds. Returns whether the state changed.
   */
  reload(): boolean {
    try {
      const changed = this.refresh(false);
      this.failure = undefined;
      return changed;
    } catch (err) {
      this.failure = credentialIoError(err, `reading ${this.logPath}`);
      throw this.failure;
    }
  }

  /** Calls reload() every `intervalMs` on an unref'd timer, logging failures; returns the stop function. */
  watch(intervalMs = 1000): () => void {
    let lastError: string | undefined;
    const timer = setInterval(() => {
      try {
        this.reload();
        lastError = undefined;
      } catch (err) {
        const message = (err as Error).message;
        if (message !== lastError) this.log({ level: 'error', event: 'auth.reload-failed', message: `${message}; CAVE and OneNET requests are refused until it is fixed` });
        lastError = message;
      }
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  // ---------------------------------------------------------------- lookups (request path)

  /** The grant of a CAVE token, or undefined (unknown, revoked, or the store is damaged). O(1). */
  authenticateCaveToken(secret: string): CaveGrant | undefined {
    return this.lookup(this.state.caveByHash, secret)?.grant;
  }

  /** The grant of a OneNET API key, or undefined (unknown, revoked, or the store is damaged). O(1). */
  authenticateOneNetKey(secret: string): OneNetGrant | undefined {
    return this.lookup(this.state.oneNetByHash, secret)?.grant;
  }

  /** One SHA-256 and one map probe; the found entry's hash is confirmed in constant time. */
  private lookup<T extends { readonly hash: Buffer }>(byHash: ReadonlyMap<string, T>, secret: string): T | undefined {
    if (this.failure || secret.length === 0 || secret.length > MAX_PRESENTED_SECRET_CHARS) return undefined;
    const hash = hashSecret(secret);
    const entry = byHash.get(hash.toString('hex'));
    return entry !== undefined && hashesEqual(entry.hash, hash) ? entry : undefined;
  }

  /** Whether `secret` is the current admin token. */
  authenticateAdminToken(secret: string): boolean {
    const admin = this.state.admin;
    if (this.failure || admin === undefined || secret.length === 0 || secret.length > MAX_PRESENTED_SECRET_CHARS) return false;
    return hashesEqual(admin.hash, hashSecret(secret));
  }

  /** The device with this id (device ids are global), or undefined. */
  device(id: string): DeviceInfo | undefined {
    return this.state.devices.get(id);
  }

  /** Whether the CAVE organisation exists (false while the store is damaged). O(1). */
  hasOrg(org: string): boolean {
    return this.failure === undefined && this.state.orgs.has(org);
  }

  /** Whether the CAVE team exists in the organisation (false while the store is damaged). O(1). */
  hasTeam(org: string, team: string): boolean {
    return this.failure === undefined && this.state.team(org, team) !== undefined;
  }

  // ---------------------------------------------------------------- listings (no secrets)

  listOrgs(): OrgInfo[] {
    const s = this.state;
    return [...s.orgs.values()]
      .map((o) => ({
        name: o.name,
        createdMs: o.createdMs,
        teams: [...s.teams.values()].filter((t) => t.org === o.name).length,
        tokens: s.caveTokensOf(o.name, undefined).length,
      }))
      .sort(byName);
  }

  listTeams(org: string): TeamInfo[] {
    const s = this.state;
    this.requireOrg(s, org);
    return [...s.teams.values()]
      .filter((t) => t.org === org)
      .map((t) => ({ org, name: t.name, createdMs: t.createdMs, tokens: s.caveTokensOf(org, t.name).length }))
      .sort(byName);
  }

  /** Tokens of the organisation (no team) or of one of its teams, in id order. */
  listCaveTokens(org: string, team?: string): CaveTokenInfo[] {
    const s = this.state;
    this.requireOwner(s, org, team);
    return s.caveTokensOf(org, team).map((t) => t.info);
  }

  listProducts(): ProductInfo[] {
    const s = this.state;
    return [...s.products.values()]
      .map((p) => ({
        name: p.name,
        createdMs: p.createdMs,
        devices: [...s.devices.values()].filter((d) => d.product === p.name).length,
        keys: [...s.oneNetKeys.values()].filter((k) => k.info.product === p.name).length,
      }))
      .sort(byName);
  }

  listDevices(product: string): DeviceInfo[] {
    const s = this.state;
    this.requireProduct(s, product);
    return [...s.devices.values()].filter((d) => d.product === product);
  }

  /** Keys of the product, master and device keys alike, in id order. */
  listOneNetKeys(product: string): OneNetKeyInfo[] {
    const s = this.state;
    this.requireProduct(s, product);
    return [...s.oneNetKeys.values()].filter((k) => k.info.product === product).map((k) => k.info);
  }

  // ---------------------------------------------------------------- CAVE changes

  /** Creates the organisation and its `default` token (CAVE does the same); returns that token. */
  createOrg(org: string, options: { scopes?: readonly string[] } = {}): NewSecret<CaveTokenInfo> {
    checkName('organization', org);
    const scopes = checkSet('scope', options.scopes ?? ['publish'], CAVE_SCOPES);
    const secret = newCaveToken();
    const txn = this.commit((s) => {
      if (s.orgs.has(org)) fail(CredentialErrorCode.Conflict, `Organization '${org}' already exists.`);
      return [{ op: 'org.create', org }, caveTokenOp(s.nextId, org, undefined, scopes, DEFAULT_TOKEN_DESCRIPTION, secret)];
    });
    return this.newCaveToken(txn, secret);
  }

  /** Deletes an organisation without teams, and its tokens (CAVE refuses while teams remain). */
  deleteOrg(org: string): void {
    this.commit((s) => {
      this.requireOrg(s, org);
      if ([...s.teams.values()].some((t) => t.org === org)) {
        fail(CredentialErrorCode.Refused, 'Cannot delete account with teams attached. Delete teams first.');
      }
      return [{ op: 'org.delete', org }];
    });
  }

  /** Creates the team and its `default` token; returns that token. */
  createTeam(org: string, team: string, options: { scopes?: readonly string[] } = {}): NewSecret<CaveTokenInfo> {
    checkName('team', team);
    const scopes = checkSet('scope', options.scopes ?? ['publish'], CAVE_SCOPES);
    const secret = newCaveToken();
    const txn = this.commit((s) => {
      this.requireOrg(s, org);
      if (s.team(org, team)) fail(CredentialErrorCode.Conflict, `Team '${team}' already exists.`);
      return [{ op: 'team.create', org, team }, caveTokenOp(s.nextId, org, team, scopes, DEFAULT_TOKEN_DESCRIPTION, secret)];
    });
    return this.newCaveToken(txn, secret);
  }

  /** Deletes a team and its tokens. */
  deleteTeam(org: string, team: string): void {
    this.commit((s) => {
      this.requireOwner(s, org, team);
      return [{ op: 'team.delete', org, team }];
    });
  }

  /** Adds a token to an organisation or, with `team`, to a team; at most maxTokensPerOwner each. */
  createCaveToken(org: string, options: { team?: string; scopes: readonly string[]; description?: string }): NewSecret<CaveTokenInfo> {
    const scopes = checkSet('scope', options.scopes, CAVE_SCOPES);
    const description = options.description ?? '';
    checkLabel('description', description);
    const team = options.team;
    const secret = newCaveToken();
    const txn = this.commit((s) => {
      this.requireOwner(s, org, team);
      if (s.caveTokensOf(org, team).length >= this.maxTokens) {
        fail(CredentialErrorCode.Refused, team === undefined ? 'Too many tokens for organization.' : 'Too many tokens for team.');
      }
      return [caveTokenOp(s.nextId, org, team, scopes, description, secret)];
    });
    return this.newCaveToken(txn, secret);
  }

  /** Revokes one token of the organisation (or of `team`); never the last one (CAVE's order: that check first). */
  revokeCaveToken(org: string, id: number, options: { team?: string } = {}): void {
    const team = options.team;
    this.commit((s) => {
      this.requireOwner(s, org, team);
      if (s.caveTokensOf(org, team).length <= 1) {
        fail(CredentialErrorCode.Refused, team === undefined ? 'Cannot delete the last organization token.' : 'Cannot delete the last team token.');
      }
      const token = s.caveTokens.get(id as CredentialId);
      if (token === undefined || token.info.org !== org || token.info.team !== team) {
        fail(CredentialErrorCode.NotFound, `Token ${id} not found for ${team === undefined ? `organization '${org}'` : `team '${team}'`}.`);
      }
      return [{ op: 'cave.token.revoke', id }];
    });
  }

  // ---------------------------------------------------------------- OneNET changes

  /** Creates the product and its master key (read and write on every device of it); returns the key. */
  createProduct(product: string): NewSecret<OneNetKeyInfo> {
    checkName('product', product);
    const secret = newOneNetKey();
    const txn = this.commit((s) => {
      if (s.products.has(product)) fail(CredentialErrorCode.Conflict, `Product '${product}' already exists.`);
      return [{ op: 'onenet.product.create', product }, oneNetKeyOp(s.nextId, product, undefined, ONENET_PERMISSIONS, true, MASTER_KEY_DESCRIPTION, secret)];
    });
    return this.newOneNetKey(txn, secret);
  }

  /** Registers a device in a product; device ids are unique across products. Title defaults to the id. */
  createDevice(product: string, device: string, options: { title?: string } = {}): DeviceInfo {
    checkName('device', device);
    const title = options.title ?? device;
    checkLabel('title', title);
    this.commit((s) => {
      this.requireProduct(s, product);
      if (s.devices.has(device)) fail(CredentialErrorCode.Conflict, `Device '${device}' already exists.`);
      return [{ op: 'onenet.device.create', product, device, title }];
    });
    return this.state.devices.get(device)!;
  }

  /** A key for every device of the product or, with `device`, for that one device only. */
  createOneNetKey(product: string, options: { device?: string; permissions: readonly string[]; description?: string }): NewSecret<OneNetKeyInfo> {
    const permissions = checkSet('permission', options.permissions, ONENET_PERMISSIONS);
    const description = options.description ?? '';
    checkLabel('description', description);
    const device = options.device;
    const secret = newOneNetKey();
    const txn = this.commit((s) => {
      this.requireProduct(s, product);
      if (device !== undefined && s.devices.get(device)?.product !== product) {
        fail(CredentialErrorCode.NotFound, `Device '${device}' not found in product '${product}'.`);
      }
      return [oneNetKeyOp(s.nextId, product, device, permissions, false, description, secret)];
    });
    return this.newOneNetKey(txn, secret);
  }

  /** Revokes a key of the product (the master key too: OneNET has no last-key rule). */
  revokeOneNetKey(product: string, id: number): void {
    this.commit((s) => {
      this.requireProduct(s, product);
      if (s.oneNetKeys.get(id as CredentialId)?.info.product !== product) fail(CredentialErrorCode.NotFound, `Key ${id} not found in product '${product}'.`);
      return [{ op: 'onenet.key.revoke', id }];
    });
  }

  // ---------------------------------------------------------------- admin token

  /**
   * Makes sure `<data>/admin-token` (mode 0600) exists and its hash is the store's admin hash:
   * generates a token when the file is missing, adopts the file's token otherwise (refusing one
   * shorter than MIN_ADMIN_TOKEN_CHARS). Call at server start and before CLI changes. Logs a
   * warning if the file is readable by group or others.
   */
  ensureAdminToken(): { readonly created: boolean; readonly path: string } {
    return this.withLock(() => {
      this.refresh(true);
      let token = readAdminTokenFile(this.adminTokenPath);
      const created = token === undefined;
      if (token === undefined) {
        token = newAdminToken();
        writeAdminTokenFile(this.adminTokenPath, token);
        this.log({ event: 'auth.admin-token-created', path: this.adminTokenPath, message: `generated the admin token in ${this.adminTokenPath} (mode 0600)` });
      } else if (token.length < MIN_ADMIN_TOKEN_CHARS) {
        fail(
          CredentialErrorCode.Invalid,
          `${this.adminTokenPath} holds a token of ${token.length} characters (at least ${MIN_ADMIN_TOKEN_CHARS} needed): delete the file to generate a new one`,
        );
      } else if (adminTokenFileExposure(this.adminTokenPath) !== 0) {
        this.log({
          level: 'warn',
          event: 'auth.admin-token-exposed',
          path: this.adminTokenPath,
          message: `${this.adminTokenPath} is readable by group or others: rotate the admin token (strata auth rotate-admin-token)`,
        });
      }
      this.setAdminHashLocked(token);
      return { created, path: this.adminTokenPath };
    });
  }

  /** Replaces the admin token with a new one (file first, then its hash); the old one stops working. */
  rotateAdminToken(): { readonly path: string } {
    return this.withLock(() => {
      this.refresh(true);
      const token = newAdminToken();
      writeAdminTokenFile(this.adminTokenPath, token);
      this.setAdminHashLocked(token);
      return { path: this.adminTokenPath };
    });
  }

  private setAdminHashLocked(token: string): void {
    const hash = hashSecret(token);
    const admin = this.state.admin;
    if (admin === undefined || !hashesEqual(admin.hash, hash)) this.appendLocked([{ op: 'admin.token.set', sha256: hash.toString('hex') }]);
  }

  // ---------------------------------------------------------------- internals

  private requireOrg(s: CredentialState, org: string): void {
    if (!s.orgs.has(org)) fail(CredentialErrorCode.NotFound, `Organization '${org}' not found.`);
  }

  private requireOwner(s: CredentialState, org: string, team: string | undefined): void {
    this.requireOrg(s, org);
    if (team !== undefined && !s.team(org, team)) fail(CredentialErrorCode.NotFound, `Team '${team}' not found in organization '${org}'.`);
  }

  private requireProduct(s: CredentialState, product: string): void {
    if (!s.products.has(product)) fail(CredentialErrorCode.NotFound, `Product '${product}' not found.`);
  }

  private newCaveToken(txn: Transaction, secret: string): NewSecret<CaveTokenInfo> {
    const op = txn.ops.find((o) => o.op === 'cave.token.create')!;
    return { ...this.state.caveTokens.get(op.id as CredentialId)!.info, secret };
  }

  private newOneNetKey(txn: Transaction, secret: string): NewSecret<OneNetKeyInfo> {
    const op = txn.ops.find((o) => o.op === 'onenet.key.create')!;
    return { ...this.state.oneNetKeys.get(op.id as CredentialId)!.info, secret };
  }

  private withLock<T>(fn: () => T): T {
    try {
      if (!this.fsys.exists(this.dir)) {
        this.fsys.mkdirp(this.dir);
        this.fsys.fsyncDir(this.dataDir);
      }
    } catch (err) {
      throw credentialIoError(err, `creating ${this.dir}`);
    }
    this.lock.acquire();
    try {
      return fn();
    } finally {
      this.lock.release();
    }
  }

  /**
   * One change: under the lock, catch up with the file (cutting a torn tail), let `build` check
   * the fresh state and return the operations, append them as one record, fsync, then apply.
   */
  private commit(build: (state: CredentialState) => CredentialOp[]): Transaction {
    return this.withLock(() => {
      this.refresh(true);
      return this.appendLocked(build(this.state));
    });
  }

  private appendLocked(ops: CredentialOp[]): Transaction {
    const txn: Transaction = { seq: this.state.seq + 1, atMs: this.now(), ops };
    const next = this.state.clone();
    next.applyTransaction(txn); // a ReplayError here is a bug in a build function: nothing is written
    const record = encodeRecord(txn);
    const fsys = this.fsys;
    const at = this.validEnd;
    const bytes = at === 0 ? Buffer.concat([encodeLogHeader(), record]) : record;
    let fd = -1;
    try {
      fd = fsys.open(this.logPath, fsys.exists(this.logPath) ? 'r+' : 'w+');
      fsys.pwrite(fd, bytes, at);
      fsys.fsync(fd);
      if (at === 0) fsys.fsyncDir(this.dir);
    } catch (err) {
      if (fd >= 0) {
        try {
          fsys.ftruncate(fd, at);
          fsys.fsync(fd);
        } catch {
          // The partial record is a torn tail: readers ignore it and the next change cuts it.
        }
      }
      throw credentialIoError(err, `writing ${this.logPath}`);
    } finally {
      if (fd >= 0) fsys.close(fd);
    }
    this.state = next;
    this.validEnd = at + bytes.length;
    this.seenBytes = this.validEnd;
    return txn;
  }

  /**
   * Reads what was appended since the last read and applies it; reads everything again when the
   * file shrank (a rolled-back append, a repair), when the new bytes do not continue the old ones
   * (a restored backup), and for a writer. With `repair` (only under the lock, i.e. writers) a
   * torn tail is cut. Throws on damage, leaving the state as it was.
   */
  private refresh(repair: boolean): boolean {
    const fsys = this.fsys;
    if (!fsys.exists(this.logPath)) {
      const changed = this.state.seq > 0;
      if (changed) this.state = new CredentialState();
      this.validEnd = 0;
      this.seenBytes = 0;
      return changed;
    }
    let fd = -1;
    try {
      fd = fsys.open(this.logPath, repair ? 'r+' : 'r');
      const size = fsys.sizeOf(fd);
      if (size === this.seenBytes && !repair) return false;
      // A writer reads everything again: it must never append after damage it has not seen.
      let base = repair || size < this.validEnd ? 0 : this.validEnd;
      let read: { state: CredentialState; scan: LogScan };
      try {
        read = this.readFrom(fd, base, size);
      } catch (err) {
        if (base === 0 || !(err instanceof CredentialCorruptionError)) throw err;
        base = 0;
        read = this.readFrom(fd, 0, size);
      }
      const { state, scan } = read;
      let seen = size;
      if (scan.tail.kind === 'torn' && repair) {
        fsys.ftruncate(fd, scan.validEnd);
        fsys.fsync(fd);
        seen = scan.validEnd;
        this.log({
          level: 'warn',
          event: 'auth.torn-tail-cut',
          file: this.logPath,
          bytes: size - scan.validEnd,
          message: `cut an unfinished record (${size - scan.validEnd} bytes) from the end of ${this.logPath}`,
        });
      }
      const changed = base === 0 ? state.seq !== this.state.seq || this.validEnd !== scan.validEnd : scan.records.length > 0;
      this.state = state;
      this.validEnd = scan.validEnd;
      this.seenBytes = seen;
      if (base === 0) this.failure = undefined; // the whole log just read clean
      return changed;
    } catch (err) {
      throw credentialIoError(err, `reading ${this.logPath}`);
    } finally {
      if (fd >= 0) fsys.close(fd);
    }
  }

  /** Bytes [base, size) applied to the current state (a fresh one when base is 0); throws on damage. */
  private readFrom(fd: number, base: number, size: number): { state: CredentialState; scan: LogScan } {
    const state = base === 0 ? new CredentialState() : this.state.clone();
    const bytes = new Uint8Array(size - base);
    this.fsys.pread(fd, bytes, base);
    const scan = scanLog(bytes, base);
    for (const r of scan.records) {
      try {
        state.applyTransaction(r.txn);
      } catch (err) {
        if (err instanceof ReplayError) throw new CredentialCorruptionError(this.logPath, r.offset, `record does not apply: ${err.message}`);
        throw err;
      }
    }
    if (scan.tail.kind === 'damaged') throw new CredentialCorruptionError(this.logPath, scan.tail.offset, scan.tail.reason);
    return { state, scan };
  }

  private cutDamage(): { droppedBytes: number; keptRecords: number } {
    const fsys = this.fsys;
    if (!fsys.exists(this.logPath)) return { droppedBytes: 0, keptRecords: 0 };
    let fd = -1;
    try {
      fd = fsys.open(this.logPath, 'r+');
      const size = fsys.sizeOf(fd);
      const bytes = new Uint8Array(size);
      fsys.pread(fd, bytes, 0);
      const scan = scanLog(bytes, 0);
      if (scan.tail.kind === 'damaged' && scan.validEnd === 0) {
        throw new CredentialCorruptionError(this.logPath, scan.tail.offset, `${scan.tail.reason}; not repairable: move the file away to start with an empty store`);
      }
      const state = new CredentialState();
      let cut = scan.validEnd;
      let kept = 0;
      for (const r of scan.records) {
        try {
          state.applyTransaction(r.txn);
        } catch (err) {
          if (!(err instanceof ReplayError)) throw err;
          cut = r.offset;
          break;
        }
        kept++;
      }
      if (cut < size) {
        fsys.ftruncate(fd, cut);
        fsys.fsync(fd);
        this.log({ level: 'warn', event: 'auth.repaired', file: this.logPath, bytes: size - cut, message: `cut ${size - cut} bytes from ${this.logPath} at offset ${cut}` });
      }
      return { droppedBytes: size - cut, keptRecords: kept };
    } catch (err) {
      throw credentialIoError(err, `repairing ${this.logPath}`);
    } finally {
      if (fd >= 0) fsys.close(fd);
    }
  }
}
