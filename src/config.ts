// Server options: defaults, then a JSON config file (--config), then STRATA_* environment
// variables, then command-line flags — later sources win. Pure: reads no sockets; reads the
// config file only through the `readFile` it is given. Every option is documented in HELP.
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { SyncPolicy } from '../engine/index.js';

export interface ServerConfig {
  /** HTTP port for every REST family; 0 = pick a free one. */
  readonly httpPort: number;
  /** Line-protocol port (telnet put/putm/puts/version; HTTP sniffed on the same port); 0 = free one. */
  readonly telnetPort: number;
  /** Interface to bind both ports to. */
  readonly host: string;
  /** Absolute path of the data directory. */
  readonly dataDir: string;
  /** Worker threads, each the only writer of one shard. */
  readonly threads: number;
  readonly sync: SyncPolicy;
  readonly syncIntervalMs: number;
  /** How often each worker checks whether its shard has enough sealed segments to compact. */
  readonly compactCheckMs: number;
  /** Largest request body accepted on the wire (413 above). */
  readonly maxBodyBytes: number;
  /** Largest body after gzip/deflate inflation (413 above: gzip bombs). */
  readonly maxInflatedBytes: number;
  /** Body bytes buffered or queued for workers at once; new requests get 503 above it. */
  readonly maxInflightBytes: number;
  /** Tasks waiting for a free worker at once; new requests get 503 above it. */
  readonly maxQueuedTasks: number;
  /** Preallocated size of each ingest segment file. */
  readonly segmentBytes: number;
  /** OpenTSDB tags per point, `_aggregate` included (upstream tsd.storage.max_tags); at least 1. */
  readonly openTsdbMaxTags: number;
  /** How long a line-port connection may wait for budget or a worker before its lines are refused with throttle lines. */
  readonly lineThrottleMs: number;
  /** OneNET: zone `±HH:MM` of `at` times without one and of the times reads print (default +08:00). */
  readonly onenetTimeZone: string;
  /** OneNET: largest `POST /bindata` body, bytes (the platform's 800 KB). */
  readonly onenetMaxBinaryBytes: number;
  /** OneNET firmware port (HTTP/1.0-tolerant relay to the HTTP port, src/http/onenet-firmware-port.ts); -1 = off, 0 = any free port. */
  readonly onenetPort: number;
  /** Largest CAVE publish body on the wire, and after gzip/deflate (CAVE's Play parse.json limit, 100 KB; 413 above). */
  readonly caveMaxBodyBytes: number;
  /**
   * KairosDB/OpenTSDB ingest bodies up to this size (on the wire) that arrive in one event-loop
   * turn or while every worker is busy go as one task and one append (src/pool/coalescer.ts);
   * 0 = never group.
   */
  readonly coalesceMaxBodyBytes: number;
  /** Every this many ms the server stores its own metrics as `strata.*` series (src/self-report.ts); 0 = never. */
  readonly selfReportIntervalMs: number;
  /** Synthetic points each worker pushes through the ingest path before it is ready (0 = none; src/pool/warm-up.ts). */
  readonly warmUpPoints: number;
}

interface OptionSpec {
  readonly key: keyof ServerConfig;
  readonly flag: string;
  readonly kind: 'int' | 'string' | 'sync';
  readonly help: string;
}

/** One table drives flags, environment variables (STRATA_ + upper snake), config keys and --help. */
const OPTIONS: readonly OptionSpec[] = [
  { key: 'httpPort', flag: 'http-port', kind: 'int', help: 'HTTP port for KairosDB/OpenTSDB/CAVE/OneNET REST (0 = any free port)' },
  { key: 'telnetPort', flag: 'telnet-port', kind: 'int', help: 'line-protocol port, also accepts HTTP (0 = any free port)' },
  { key: 'host', flag: 'host', kind: 'string', help: 'address to bind' },
  { key: 'dataDir', flag: 'data-dir', kind: 'string', help: 'data directory' },
  { key: 'threads', flag: 'threads', kind: 'int', help: 'worker threads (one shard each)' },
  { key: 'sync', flag: 'sync', kind: 'sync', help: 'msync policy: interval | always | never' },
  { key: 'syncIntervalMs', flag: 'sync-interval-ms', kind: 'int', help: 'msync period for --sync interval' },
  { key: 'compactCheckMs', flag: 'compact-check-ms', kind: 'int', help: 'how often a worker checks whether its shard is due for compaction' },
  { key: 'maxBodyBytes', flag: 'max-body-bytes', kind: 'int', help: 'largest request body on the wire (413 above)' },
  { key: 'maxInflatedBytes', flag: 'max-inflated-bytes', kind: 'int', help: 'largest body after gzip/deflate (413 above)' },
  { key: 'maxInflightBytes', flag: 'max-inflight-bytes', kind: 'int', help: 'body bytes in flight at once (503 above)' },
  { key: 'maxQueuedTasks', flag: 'max-queued-tasks', kind: 'int', help: 'requests waiting for a worker (503 above)' },
  { key: 'segmentBytes', flag: 'segment-bytes', kind: 'int', help: 'preallocated size of each segment file' },
  { key: 'openTsdbMaxTags', flag: 'opentsdb-max-tags', kind: 'int', help: 'OpenTSDB tags per point (tsd.storage.max_tags)' },
  { key: 'lineThrottleMs', flag: 'line-throttle-ms', kind: 'int', help: 'line-port wait for room before "Please throttle writes"' },
  { key: 'onenetTimeZone', flag: 'onenet-time-zone', kind: 'string', help: 'OneNET: zone ±HH:MM of times without one (default +08:00; negative: --onenet-time-zone=-05:00)' },
  { key: 'onenetMaxBinaryBytes', flag: 'onenet-max-binary-bytes', kind: 'int', help: 'OneNET: largest POST /bindata body' },
  { key: 'onenetPort', flag: 'onenet-port', kind: 'int', help: 'OneNET firmware port, HTTP/1.0-tolerant (default off)' },
  { key: 'caveMaxBodyBytes', flag: 'cave-max-body-bytes', kind: 'int', help: 'largest CAVE publish body (413 above)' },
  { key: 'selfReportIntervalMs', flag: 'self-report-interval-ms', kind: 'int', help: 'store the server\'s own metrics as strata.* series every N ms (0 = never)' },
  { key: 'warmUpPoints', flag: 'warm-up-points', kind: 'int', help: 'synthetic points each worker ingests into a scratch shard before it is ready, so the first requests run compiled code (0 = none)' },
  { key: 'coalesceMaxBodyBytes', flag: 'coalesce-max-body-bytes', kind: 'int', help: 'ingest bodies up to N bytes travel to the workers in groups (0 = never)' },
];

export function defaultConfig(cwd: string): ServerConfig {
  return {
    httpPort: 8080,
    telnetPort: 4242,
    host: '0.0.0.0',
    dataDir: path.resolve(cwd, 'data'),
    threads: Math.max(1, os.availableParallelism()),
    sync: 'interval',
    syncIntervalMs: 1000,
    compactCheckMs: 30_000,
    maxBodyBytes: 64 * 1024 * 1024,
    // Inflated bytes are not in the in-flight budget: this bounds what one compressed body can cost
    // a worker (a 5,000-point batch is ~1.2 MB; docs/guarantees.md §4).
    maxInflatedBytes: 64 * 1024 * 1024,
    maxInflightBytes: 256 * 1024 * 1024,
    maxQueuedTasks: 1024,
    segmentBytes: 64 * 1024 * 1024,
    openTsdbMaxTags: 8,
    lineThrottleMs: 500,
    onenetTimeZone: '+08:00',
    onenetMaxBinaryBytes: 800 * 1024,
    onenetPort: -1,
    caveMaxBodyBytes: 102400,
    coalesceMaxBodyBytes: 64 * 1024,
    selfReportIntervalMs: 60_000,
    warmUpPoints: 40_000,
  };
}

export function envName(flag: string): string {
  return `STRATA_${flag.toUpperCase().replaceAll('-', '_')}`;
}

export const HELP = `strata — time-series ingestion and storage (KairosDB, OpenTSDB, CAVE, OneNET)

Usage: strata [serve] [options]
       strata cave|onenet|auth <command> …   credentials: organizations, teams, tokens, products,
                                             devices, API keys (strata cave --help, strata onenet --help)
       strata inspect|export|import|compact …  data tools: what is on disk (--verify), points out and in
                                             as KairosDB JSON or OpenTSDB lines, compaction now (strata inspect --help, …)

${OPTIONS.map((o) => `  --${`${o.flag} ${o.kind === 'int' ? 'N' : o.kind === 'sync' ? 'POLICY' : 'VALUE'}`.padEnd(28)}${o.help} (env ${envName(o.flag)})`).join('\n')}
  --config FILE                 JSON file with any of the options above, by flag name or camelCase
  --print-config                print the effective value of every option and its source, then exit
  --help                        this text

Sources, later wins: defaults, --config file, environment, flags. On start-up one JSON line
{"event":"listening","http":PORT,"telnet":PORT} is printed to stdout; logs go to stderr.`;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Where an option's effective value came from (later wins). */
export type ConfigSource = 'default' | 'file' | 'env' | 'flag';

export type ConfigResult =
  | { readonly help: true }
  | {
      readonly help: false;
      readonly config: ServerConfig;
      /** The source of each option's value. */
      readonly sources: Readonly<Record<keyof ServerConfig, ConfigSource>>;
      /** --print-config: show the effective values and exit instead of serving. */
      readonly printConfig: boolean;
    };

/** The effective configuration as `--flag value  (source)` lines, one per option (strata serve --print-config). */
export function describeConfig(config: ServerConfig, sources: Readonly<Record<keyof ServerConfig, ConfigSource>>): string {
  const width = Math.max(...OPTIONS.map((o) => o.flag.length + String(config[o.key]).length + 4));
  return OPTIONS.map((o) => `${`--${o.flag} ${String(config[o.key])}`.padEnd(width)}  (${sources[o.key]}, env ${envName(o.flag)})`).join('\n');
}

/**
 * Resolves the configuration. Throws ConfigError with a one-line, user-facing message on an
 * unknown flag, a malformed number, an unknown sync policy or an unreadable config file.
 */
export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  readFile: (file: string) => string,
): ConfigResult {
  const flagOptions: Record<string, { type: 'string' | 'boolean' }> = { config: { type: 'string' }, help: { type: 'boolean' }, 'print-config': { type: 'boolean' } };
  for (const o of OPTIONS) flagOptions[o.flag] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: flagOptions, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (values['help'] === true) return { help: true };

  const config: Record<string, unknown> = { ...defaultConfig(cwd) };
  const sources = Object.fromEntries(OPTIONS.map((o) => [o.key, 'default'])) as Record<keyof ServerConfig, ConfigSource>;
  const configFile = typeof values['config'] === 'string' ? values['config'] : env['STRATA_CONFIG'];
  if (configFile !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFile(configFile));
    } catch (err) {
      throw new ConfigError(`cannot read config file ${configFile}: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`config file ${configFile} must hold a JSON object`);
    }
    for (const [name, raw] of Object.entries(parsed)) {
      const spec = OPTIONS.find((o) => o.flag === name || o.key === name);
      if (!spec) throw new ConfigError(`config file ${configFile}: unknown option "${name}"`);
      config[spec.key] = coerce(spec, raw, `config file ${configFile}`, path.dirname(path.resolve(cwd, configFile)));
      sources[spec.key] = 'file';
    }
  }
  for (const spec of OPTIONS) {
    const raw = env[envName(spec.flag)];
    if (raw !== undefined && raw !== '') {
      config[spec.key] = coerce(spec, raw, envName(spec.flag), cwd);
      sources[spec.key] = 'env';
    }
  }
  for (const spec of OPTIONS) {
    const raw = values[spec.flag];
    if (typeof raw === 'string') {
      config[spec.key] = coerce(spec, raw, `--${spec.flag}`, cwd);
      sources[spec.key] = 'flag';
    }
  }
  const result = config as unknown as ServerConfig;
  if (result.threads < 1) throw new ConfigError('threads must be at least 1');
  if (result.openTsdbMaxTags < 1) throw new ConfigError('opentsdb-max-tags must be at least 1');
  if (!/^[+-](0\d|1[0-4]):[0-5]\d$/.test(result.onenetTimeZone) || /^[+-]14:(?!00)/.test(result.onenetTimeZone)) {
    throw new ConfigError(`onenet-time-zone must be an offset ±HH:MM between -14:00 and +14:00, got ${JSON.stringify(result.onenetTimeZone)}`);
  }
  if (result.caveMaxBodyBytes < 1) throw new ConfigError('cave-max-body-bytes must be at least 1');
  if (result.httpPort > 65535 || result.telnetPort > 65535 || result.onenetPort > 65535) throw new ConfigError('ports must be 0..65535');
  return { help: false, config: result, sources, printConfig: values['print-config'] === true };
}

function coerce(spec: OptionSpec, raw: unknown, source: string, baseDir: string): unknown {
  switch (spec.kind) {
    case 'int': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n) || n < 0) throw new ConfigError(`${source}: ${spec.flag} must be a non-negative integer, got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'sync':
      if (raw === 'interval' || raw === 'always' || raw === 'never') return raw;
      throw new ConfigError(`${source}: sync must be interval, always or never, got ${JSON.stringify(raw)}`);
    case 'string':
      if (typeof raw !== 'string' || raw === '') throw new ConfigError(`${source}: ${spec.flag} must be a non-empty string`);
      return spec.key === 'dataDir' ? path.resolve(baseDir, raw) : raw;
  }
}
