// The credential commands (`strata cave …`, `strata onenet …`, `strata auth …`): one table entry
// each, holding its words, arguments, options, help and what it does with the store. Parsing,
// help and errors live in cli.ts. A secret is printed once, on stdout, and never listed again.
import type { CaveTokenInfo, CredentialStore, NewSecret, OneNetKeyInfo } from '../auth/index.js';

export interface OptionSpec {
  /** Placeholder in help, e.g. TEAM; a boolean flag has none. */
  readonly value?: string;
  readonly help: string;
  readonly required?: boolean;
}

/** What a command's `run` is given: its arguments by name and option values by flag. */
export interface Invocation {
  readonly args: Readonly<Record<string, string>>;
  readonly options: Readonly<Record<string, string | undefined>>;
  readonly json: boolean;
}

export interface Output {
  /** A result line on stdout. */
  out(text: string): void;
  /** A note for the person at the terminal, on stderr. */
  note(text: string): void;
}

/** The store of the resolved data directory: opened on first use of `store`. */
export interface StoreAccess {
  readonly store: CredentialStore;
  /** CredentialStore.repair of the same directory (for a store too damaged to open). */
  repair(): { readonly droppedBytes: number; readonly keptRecords: number };
}

export interface Command {
  readonly words: readonly string[];
  /** Positional arguments, in order, all required; `token-id` and `key-id` must be positive integers. */
  readonly args: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly summary: string;
  /** Changes credentials: the admin token is made sure of (generated on first use) before `run`. */
  readonly changes: boolean;
  run(access: StoreAccess, call: Invocation, output: Output): void;
}

/** Splits `a,b` lists given to --scope and --perm. */
function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((v) => v.trim()).filter((v) => v !== '');
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Prints rows as JSON (with --json) or as a table with a header line. */
function table<T>(output: Output, call: Invocation, rows: readonly T[], columns: Record<string, (row: T) => string>): void {
  if (call.json) {
    output.out(JSON.stringify(rows));
    return;
  }
  const heads = Object.keys(columns);
  const cells = rows.map((r) => Object.values(columns).map((f) => f(r)));
  const widths = heads.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: readonly string[]): string => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join('  ');
  output.out([line(heads), ...cells.map(line)].join('\n'));
}

/** Prints a new secret once: alone on stdout (or in the --json object), the explanation on stderr. */
function printSecret(output: Output, call: Invocation, created: NewSecret<CaveTokenInfo | OneNetKeyInfo>, what: string): void {
  output.out(call.json ? JSON.stringify(created) : created.secret);
  output.note(`${what}. The secret above is shown only this once: store it now.`);
}

function caveOwner(org: string, team: string | undefined): string {
  return team === undefined ? `organization ${org}` : `team ${team} of organization ${org}`;
}

function keyKind(k: OneNetKeyInfo): string {
  return k.master ? 'master' : k.device === undefined ? 'product' : 'device';
}

const team: OptionSpec = { value: 'TEAM', help: "a team of the organization instead of the organization's own tokens" };
const defaultScope: OptionSpec = { value: 'SCOPES', help: 'scopes of the default token: publish (default), read, or publish,read' };

export const COMMANDS: readonly Command[] = [
  {
    words: ['cave', 'org', 'create'],
    args: ['org'],
    options: { scope: defaultScope },
    summary: 'Creates a CAVE organization and its default token; prints the token.',
    changes: true,
    run({ store }, call, output) {
      const t = store.createOrg(call.args['org']!, { scopes: list(call.options['scope'] ?? 'publish') });
      printSecret(output, call, t, `Created organization ${t.org} with token ${t.id} (${t.scopes.join(',')})`);
    },
  },
  {
    words: ['cave', 'org', 'list'],
    args: [],
    options: {},
    summary: 'Lists the CAVE organizations.',
    changes: false,
    run({ store }, call, output) {
      table(output, call, store.listOrgs(), {
        NAME: (o) => o.name,
        TEAMS: (o) => String(o.teams),
        TOKENS: (o) => String(o.tokens),
        CREATED: (o) => iso(o.createdMs),
      });
    },
  },
  {
    words: ['cave', 'org', 'delete'],
    args: ['org'],
    options: {},
    summary: 'Deletes a CAVE organization without teams, and its tokens (its stored data stays).',
    changes: true,
    run({ store }, call, output) {
      store.deleteOrg(call.args['org']!);
      output.note(`Deleted organization ${call.args['org']}.`);
    },
  },
  {
    words: ['cave', 'team', 'create'],
    args: ['org', 'team'],
    options: { scope: defaultScope },
    summary: 'Creates a team in an organization and its default token; prints the token.',
    changes: true,
    run({ store }, call, output) {
      const t = store.createTeam(call.args['org']!, call.args['team']!, { scopes: list(call.options['scope'] ?? 'publish') });
      printSecret(output, call, t, `Created team ${t.team} in organization ${t.org} with token ${t.id} (${t.scopes.join(',')})`);
    },
  },
  {
    words: ['cave', 'team', 'list'],
    args: ['org'],
    options: {},
    summary: 'Lists the teams of an organization.',
    changes: false,
    run({ store }, call, output) {
      table(output, call, store.listTeams(call.args['org']!), {
        NAME: (t) => t.name,
        TOKENS: (t) => String(t.tokens),
        CREATED: (t) => iso(t.createdMs),
      });
    },
  },
  {
    words: ['cave', 'team', 'delete'],
    args: ['org', 'team'],
    options: {},
    summary: 'Deletes a team and its tokens (its stored data stays).',
    changes: true,
    run({ store }, call, output) {
      store.deleteTeam(call.args['org']!, call.args['team']!);
      output.note(`Deleted team ${call.args['team']} of organization ${call.args['org']}.`);
    },
  },
  {
    words: ['cave', 'token', 'create'],
    args: ['org'],
    options: {
      scope: { value: 'SCOPES', help: 'publish, read, or publish,read', required: true },
      team,
      description: { value: 'TEXT', help: 'what the token is for (shown by token list)' },
    },
    summary: 'Adds a token to an organization or a team (at most 3 each, as CAVE); prints it.',
    changes: true,
    run({ store }, call, output) {
      const teamName = call.options['team'];
      const t = store.createCaveToken(call.args['org']!, {
        scopes: list(call.options['scope']),
        ...(teamName !== undefined ? { team: teamName } : {}),
        ...(call.options['description'] !== undefined ? { description: call.options['description'] } : {}),
      });
      printSecret(output, call, t, `Created token ${t.id} (${t.scopes.join(',')}) for ${caveOwner(t.org, t.team)}`);
    },
  },
  {
    words: ['cave', 'token', 'list'],
    args: ['org'],
    options: { team },
    summary: 'Lists the tokens of an organization or a team (ids, never secrets).',
    changes: false,
    run({ store }, call, output) {
      table(output, call, store.listCaveTokens(call.args['org']!, call.options['team']), {
        ID: (t) => String(t.id),
        SCOPES: (t) => t.scopes.join(','),
        CREATED: (t) => iso(t.createdMs),
        DESCRIPTION: (t) => t.description,
      });
    },
  },
  {
    words: ['cave', 'token', 'revoke'],
    args: ['org', 'token-id'],
    options: { team },
    summary: 'Revokes a token of an organization or a team; never the last one.',
    changes: true,
    run({ store }, call, output) {
      const teamName = call.options['team'];
      store.revokeCaveToken(call.args['org']!, Number(call.args['token-id']), teamName !== undefined ? { team: teamName } : {});
      output.note(`Revoked token ${call.args['token-id']} of ${caveOwner(call.args['org']!, teamName)}.`);
    },
  },
  {
    words: ['onenet', 'product', 'create'],
    args: ['product'],
    options: {},
    summary: 'Creates a OneNET product and its master API key (read,write on every device); prints the key.',
    changes: true,
    run({ store }, call, output) {
      const k = store.createProduct(call.args['product']!);
      printSecret(output, call, k, `Created product ${k.product} with master key ${k.id}`);
    },
  },
  {
    words: ['onenet', 'product', 'list'],
    args: [],
    options: {},
    summary: 'Lists the OneNET products.',
    changes: false,
    run({ store }, call, output) {
      table(output, call, store.listProducts(), {
        NAME: (p) => p.name,
        DEVICES: (p) => String(p.devices),
        KEYS: (p) => String(p.keys),
        CREATED: (p) => iso(p.createdMs),
      });
    },
  },
  {
    words: ['onenet', 'device', 'create'],
    args: ['product', 'device-id'],
    options: { title: { value: 'TEXT', help: 'display title (default: the device id)' } },
    summary: 'Registers a device (its id is unique across products) in a product.',
    changes: true,
    run({ store }, call, output) {
      const title = call.options['title'];
      const d = store.createDevice(call.args['product']!, call.args['device-id']!, title !== undefined ? { title } : {});
      if (call.json) output.out(JSON.stringify(d));
      else output.note(`Created device ${d.id} in product ${d.product}.`);
    },
  },
  {
    words: ['onenet', 'device', 'list'],
    args: ['product'],
    options: {},
    summary: 'Lists the devices of a product.',
    changes: false,
    run({ store }, call, output) {
      table(output, call, store.listDevices(call.args['product']!), {
        ID: (d) => d.id,
        CREATED: (d) => iso(d.createdMs),
        TITLE: (d) => d.title,
      });
    },
  },
  {
    words: ['onenet', 'key', 'create'],
    args: ['product'],
    options: {
      perm: { value: 'PERMS', help: 'read, write, or read,write', required: true },
      device: { value: 'ID', help: 'bind the key to this device (default: every device of the product)' },
      description: { value: 'TEXT', help: 'what the key is for (shown by key list)' },
    },
    summary: 'Creates an API key for a product or one of its devices; prints it.',
    changes: true,
    run({ store }, call, output) {
      const device = call.options['device'];
      const k = store.createOneNetKey(call.args['product']!, {
        permissions: list(call.options['perm']),
        ...(device !== undefined ? { device } : {}),
        ...(call.options['description'] !== undefined ? { description: call.options['description'] } : {}),
      });
      printSecret(output, call, k, `Created key ${k.id} (${k.permissions.join(',')}) for ${device === undefined ? `every device of product ${k.product}` : `device ${device}`}`);
    },
  },
  {
    words: ['onenet', 'key', 'list'],
    args: ['product'],
    options: {},
    summary: 'Lists the API keys of a product (ids, never secrets).',
    changes: false,
    run({ store }, call, output) {
      table(output, call, store.listOneNetKeys(call.args['product']!), {
        ID: (k) => String(k.id),
        KIND: (k) => keyKind(k),
        DEVICE: (k) => k.device ?? '*',
        PERMS: (k) => k.permissions.join(','),
        CREATED: (k) => iso(k.createdMs),
        DESCRIPTION: (k) => k.description,
      });
    },
  },
  {
    words: ['onenet', 'key', 'revoke'],
    args: ['product', 'key-id'],
    options: {},
    summary: 'Revokes an API key of a product (the master key too).',
    changes: true,
    run({ store }, call, output) {
      store.revokeOneNetKey(call.args['product']!, Number(call.args['key-id']));
      output.note(`Revoked key ${call.args['key-id']} of product ${call.args['product']}.`);
    },
  },
  {
    words: ['auth', 'rotate-admin-token'],
    args: [],
    options: {},
    summary: 'Writes a new admin token to <data>/admin-token (mode 0600); the old one stops working.',
    changes: false,
    run({ store }, _call, output) {
      const { path } = store.rotateAdminToken();
      output.note(`Wrote a new admin token to ${path}.`);
    },
  },
  {
    words: ['auth', 'repair'],
    args: [],
    options: {},
    summary: 'Cuts a damaged credential log at its first bad record, keeping every record before it.',
    changes: false,
    run({ repair }, call, output) {
      const r = repair();
      if (call.json) output.out(JSON.stringify(r));
      else if (r.droppedBytes === 0) output.note(`Nothing to repair (${r.keptRecords} records).`);
      else {
        output.note(
          `Cut ${r.droppedBytes} bytes; kept ${r.keptRecords} records. Changes after the cut are lost (a revoked token ` +
            'may work again): check cave token list and onenet key list, and revoke again.',
        );
      }
    },
  },
];
