// `strata <group> …` commands other than serving: finds the command in the table (commands.ts),
// parses its arguments, resolves the data directory exactly as the server does (config.ts), runs
// it against the credential store and returns the exit code: 0 done, 1 refused or failed, 2 usage.
// Writes only through the `stdout`/`stderr` it is given; never prints a secret except a new one.
import { parseArgs } from 'node:util';
import { CredentialError, CredentialStore, type CredentialStoreOptions } from '../auth/index.js';
import { ConfigError, loadConfig } from '../config.js';
import type { LogEvent } from '../log.js';
import { COMMANDS, type Command, type OptionSpec, type StoreAccess } from './commands.js';

/** First words that select a command instead of the server. */
export const COMMAND_GROUPS = ['cave', 'onenet', 'auth'] as const;

export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Reads a --config file. */
  readonly readFile: (file: string) => string;
  /** Store options (tests inject a FaultyFileSystem, a short lock wait). */
  readonly storeOptions?: Omit<CredentialStoreOptions, 'log'>;
}

/** Options every command takes. */
const COMMON: Readonly<Record<string, OptionSpec>> = {
  'data-dir': { value: 'DIR', help: 'data directory (env STRATA_DATA_DIR; default ./data; as for the server)' },
  config: { value: 'FILE', help: 'JSON config file, read as the server reads it (env STRATA_CONFIG)' },
  json: { help: 'print results as JSON' },
  help: { help: 'this text' },
};

export function isCommand(argv: readonly string[]): boolean {
  return (COMMAND_GROUPS as readonly string[]).includes(argv[0] ?? '');
}

/** Arguments that name a token or key by its numeric id. */
const INTEGER_ARGS = new Set(['token-id', 'key-id']);

class UsageError extends Error {
  override name = 'UsageError';
}

function usage(cmd: Command): string {
  const opts = Object.entries(cmd.options).map(([flag, o]) => (o.required ? `--${flag} ${o.value}` : `[--${flag}${o.value ? ` ${o.value}` : ''}]`));
  return ['strata', ...cmd.words, ...cmd.args.map((a) => `<${a}>`), ...opts, '[--data-dir DIR]'].join(' ');
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  return Object.entries(options).map(([flag, o]) => `  ${`--${flag}${o.value ? ` ${o.value}` : ''}`.padEnd(22)}${o.help}`);
}

function commandHelp(cmd: Command): string {
  const own = optionLines(cmd.options);
  return [`Usage: ${usage(cmd)}`, '', cmd.summary, '', ...(own.length ? ['Options:', ...own, ''] : []), 'Common options:', ...optionLines(COMMON)].join('\n');
}

function groupHelp(prefix: readonly string[]): string {
  const cmds = COMMANDS.filter((c) => prefix.every((w, i) => c.words[i] === w));
  return [
    `Usage: strata ${prefix.join(' ')} …`,
    '',
    ...cmds.map((c) => `  ${usage(c)}\n      ${c.summary}`),
    '',
    'Common options:',
    ...optionLines(COMMON),
    '',
    'New secrets are printed once, alone on stdout; lists show ids, never secrets.',
    'Exit status: 0 done, 1 refused or failed (the message says why), 2 bad usage.',
  ].join('\n');
}

function findCommand(argv: readonly string[]): Command | undefined {
  return COMMANDS.find((c) => c.words.every((w, i) => argv[i] === w));
}

/** The longest run of leading words that some command starts with (for a group's help). */
function knownPrefix(argv: readonly string[]): string[] {
  const prefix: string[] = [];
  for (const word of argv) {
    if (!COMMANDS.some((c) => [...prefix, word].every((w, i) => c.words[i] === w))) break;
    prefix.push(word);
  }
  return prefix;
}

function parseInvocation(cmd: Command, rest: readonly string[]): { args: Record<string, string>; options: Record<string, string | undefined>; flags: Record<string, boolean> } {
  const all = { ...COMMON, ...cmd.options };
  const spec: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const [flag, o] of Object.entries(all)) spec[flag] = { type: o.value ? 'string' : 'boolean' };
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], options: spec, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const options: Record<string, string | undefined> = {};
  const flags: Record<string, boolean> = {};
  for (const [flag, v] of Object.entries(parsed.values)) {
    if (typeof v === 'string') options[flag] = v;
    else if (v === true) flags[flag] = true;
  }
  if (flags['help']) return { args: {}, options, flags };
  if (parsed.positionals.length !== cmd.args.length) {
    throw new UsageError(`expected ${cmd.args.length === 0 ? 'no arguments' : cmd.args.map((a) => `<${a}>`).join(' ')}, got ${JSON.stringify(parsed.positionals)}`);
  }
  const args: Record<string, string> = {};
  cmd.args.forEach((name, i) => {
    const value = parsed.positionals[i]!;
    if (INTEGER_ARGS.has(name) && !/^[1-9]\d{0,14}$/.test(value)) throw new UsageError(`<${name}> must be a positive integer, got ${JSON.stringify(value)}`);
    args[name] = value;
  });
  for (const [flag, o] of Object.entries(cmd.options)) {
    if (o.required && options[flag] === undefined) throw new UsageError(`--${flag} ${o.value} is required`);
  }
  return { args, options, flags };
}

/** Resolves the data directory from --data-dir/--config/environment/defaults, as the server does. */
function dataDirOf(options: Record<string, string | undefined>, ctx: CliContext): string {
  const argv: string[] = [];
  if (options['data-dir'] !== undefined) argv.push('--data-dir', options['data-dir']);
  if (options['config'] !== undefined) argv.push('--config', options['config']);
  const result = loadConfig(argv, ctx.env, ctx.cwd, ctx.readFile);
  if (result.help) throw new UsageError('unexpected --help');
  return result.config.dataDir;
}

/**
 * Runs `strata <argv…>` for a command group (isCommand(argv) is true) and returns the exit code.
 * Synchronous: every store operation is.
 */
export function runCommand(argv: readonly string[], ctx: CliContext): number {
  const cmd = findCommand(argv);
  if (cmd === undefined) {
    const prefix = knownPrefix(argv);
    const wantsHelp = argv.includes('--help') || argv.includes('-h') || argv.length === prefix.length;
    if (wantsHelp && prefix.length > 0) {
      const asked = argv.includes('--help') || argv.includes('-h');
      (asked ? ctx.stdout : ctx.stderr)(`${groupHelp(prefix)}\n`);
      return asked ? 0 : 2;
    }
    ctx.stderr(`strata: unknown command "${argv.slice(0, prefix.length + 1).join(' ')}"\n\n${groupHelp(prefix.slice(0, 1))}\n`);
    return 2;
  }
  const output = { out: (text: string) => ctx.stdout(`${text}\n`), note: (text: string) => ctx.stderr(`${text}\n`) };
  try {
    const { args, options, flags } = parseInvocation(cmd, argv.slice(cmd.words.length));
    if (flags['help']) {
      ctx.stdout(`${commandHelp(cmd)}\n`);
      return 0;
    }
    const dataDir = dataDirOf(options, ctx);
    const storeOptions: CredentialStoreOptions = {
      ...ctx.storeOptions,
      log: (e: LogEvent) => ctx.stderr(`strata: ${typeof e['message'] === 'string' ? e['message'] : e.event}\n`),
    };
    let opened: CredentialStore | undefined;
    const access: StoreAccess = {
      get store() {
        if (opened === undefined) {
          opened = CredentialStore.open(dataDir, storeOptions);
          if (cmd.changes) opened.ensureAdminToken();
        }
        return opened;
      },
      repair: () => CredentialStore.repair(dataDir, storeOptions),
    };
    cmd.run(access, { args, options, json: flags['json'] === true }, output);
    return 0;
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      ctx.stderr(`strata: ${err.message}\nUsage: ${usage(cmd)}\nRun strata ${cmd.words.join(' ')} --help for details.\n`);
      return 2;
    }
    if (err instanceof CredentialError) {
      ctx.stderr(`strata: ${err.message}\n`);
      return 1;
    }
    ctx.stderr(`strata: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}
