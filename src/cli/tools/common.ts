// What the everyday data tools (`strata inspect`, `strata export`, `strata import`) share: their
// I/O context, option parsing with usage errors (exit 2, as the credential commands), help text,
// the data directory resolved exactly as the server resolves it (config.ts), and time arguments.
import { parseArgs } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { ConfigError, loadConfig, type ServerConfig } from '../../config.js';

/** Where a tool reads and writes; main.ts passes the process streams, tests the same via spawn. */
export interface ToolContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** stderr is a terminal (progress lines are shown by default only then). */
  readonly stderrIsTty: boolean;
  /** Reads a --config file. */
  readonly readFile: (file: string) => string;
}

export interface ToolOption {
  /** Placeholder in help, e.g. FILE; a boolean flag has none. */
  readonly value?: string;
  readonly help: string;
  /** May be given more than once (--tag). */
  readonly multiple?: boolean;
}

export interface ToolCall {
  readonly options: Readonly<Record<string, string | undefined>>;
  readonly lists: Readonly<Record<string, readonly string[]>>;
  readonly flags: Readonly<Record<string, boolean>>;
  readonly positionals: readonly string[];
  /** The server configuration these options and the environment resolve to (data dir, limits). */
  readonly config: ServerConfig;
}

export interface Tool {
  readonly name: string;
  /** One line after `strata <name>` in the usage. */
  readonly synopsis: string;
  readonly summary: string;
  /** Longer text printed by --help after the options (examples, exit status). */
  readonly details: string;
  readonly options: Readonly<Record<string, ToolOption>>;
  /** Most positional arguments accepted. */
  readonly maxPositionals: number;
  /** Resolves to the exit code: 0 done, 1 failed or damage found; throws UsageError for 2. */
  run(call: ToolCall, ctx: ToolContext): Promise<number>;
}

/** A mistake in how the command was called: reported with the usage line, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A refusal or failure the user can act on (no stack printed), exit status 1. */
export class ToolError extends Error {
  override name = 'ToolError';
}

/** Options every tool takes. `--data-dir` and `--config` are resolved as the server does. */
export const COMMON_OPTIONS: Readonly<Record<string, ToolOption>> = {
  'data-dir': { value: 'DIR', help: 'data directory (env STRATA_DATA_DIR; default ./data; as for the server)' },
  config: { value: 'FILE', help: 'JSON config file, read as the server reads it (env STRATA_CONFIG)' },
  help: { help: 'this text' },
};

function optionLines(options: Readonly<Record<string, ToolOption>>): string[] {
  return Object.entries(options).map(([flag, o]) => `  ${`--${flag}${o.value ? ` ${o.value}` : ''}`.padEnd(24)}${o.help}`);
}

export function usageLine(tool: Tool): string {
  return `strata ${tool.name} ${tool.synopsis}`;
}

export function toolHelp(tool: Tool): string {
  return [`Usage: ${usageLine(tool)}`, '', tool.summary, '', 'Options:', ...optionLines(tool.options), '', 'Common options:', ...optionLines(COMMON_OPTIONS), '', tool.details].join('\n');
}

/** Server options a tool passes on to loadConfig (besides --data-dir and --config). */
const CONFIG_PASSTHROUGH = ['segment-bytes', 'opentsdb-max-tags'] as const;

/** Parses a tool's arguments; throws UsageError (or ConfigError) on anything malformed. */
export function parseToolArgs(tool: Tool, argv: readonly string[], ctx: ToolContext): ToolCall | 'help' {
  const all = { ...COMMON_OPTIONS, ...tool.options };
  const spec: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const [flag, o] of Object.entries(all)) spec[flag] = { type: o.value ? 'string' : 'boolean', ...(o.multiple ? { multiple: true } : {}) };
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: spec, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const options: Record<string, string | undefined> = {};
  const lists: Record<string, string[]> = {};
  const flags: Record<string, boolean> = {};
  for (const [flag, v] of Object.entries(parsed.values)) {
    if (typeof v === 'string') options[flag] = v;
    else if (Array.isArray(v)) lists[flag] = v as string[];
    else if (v === true) flags[flag] = true;
  }
  if (flags['help']) return 'help';
  if (parsed.positionals.length > tool.maxPositionals) {
    throw new UsageError(`unexpected argument${parsed.positionals.length - tool.maxPositionals > 1 ? 's' : ''} ${parsed.positionals.slice(tool.maxPositionals).map((p) => JSON.stringify(p)).join(' ')}`);
  }
  const configArgv: string[] = [];
  for (const flag of ['data-dir', 'config', ...CONFIG_PASSTHROUGH]) {
    if (options[flag] !== undefined) configArgv.push(`--${flag}`, options[flag]);
  }
  const result = loadConfig(configArgv, ctx.env, ctx.cwd, ctx.readFile);
  if (result.help) throw new UsageError('unexpected --help');
  return { options, lists, flags, positionals: parsed.positionals, config: result.config };
}

export { ConfigError };

/**
 * A time argument (--start, --end): integer milliseconds since the Unix epoch (negative allowed),
 * or an ISO 8601 date-time with a zone ("2026-11-23T10:00:00Z") or a date ("2026-11-23", UTC).
 */
export function parseTimeArg(flag: string, text: string): number {
  if (/^-?\d+$/.test(text)) {
    const ms = Number(text);
    if (!Number.isSafeInteger(ms)) throw new UsageError(`--${flag} ${text}: milliseconds out of range`);
    return ms;
  }
  if (/^\d{4}-\d{2}-\d{2}(?:$|T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$)/.test(text)) {
    const ms = Date.parse(text);
    if (Number.isFinite(ms)) return ms;
  }
  throw new UsageError(`--${flag} must be milliseconds since the epoch or an ISO 8601 time such as 2026-11-23T10:00:00Z, got ${JSON.stringify(text)}`);
}

/** "2026-11-23T10:00:00.000Z", or the number itself when Date cannot show it. */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isFinite(d.getTime()) ? d.toISOString() : String(ms);
}

/** Writes `text` and waits when the stream asks the writer to (backpressure on a pipe or file). */
export async function writeText(out: Writable, text: string): Promise<void> {
  if (out.errored) throw out.errored;
  if (!out.write(text)) await new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      out.off('drain', done);
      out.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    out.on('drain', done);
    out.on('error', done);
  });
}
