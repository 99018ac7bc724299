#!/usr/bin/env node
// CLI entry: `strata cave|onenet|auth …` runs a credential command (src/cli/), `strata
// inspect|export|import|compact …` a data tool (src/cli/tools/). Anything else,
// `strata [serve] [options]`, serves: resolves the configuration, starts the worker pool (each
// worker claims and recovers one shard), the HTTP port and the line-protocol port, prints one
// JSON "listening" line on stdout, and on SIGTERM/SIGINT stops accepting, finishes in-flight
// work, syncs and closes every shard, and exits 0. Owns process lifetime only; no protocol or
// storage logic lives here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SHARDS_DIR, ShardWriter } from '../engine/index.js';
import { CredentialStore } from './auth/index.js';
import { isCommand, runCommand } from './cli/cli.js';
import { isToolCommand, runTool } from './cli/tools/index.js';
import { ConfigError, HELP, describeConfig, loadConfig, type ServerConfig } from './config.js';
import { startHttpServer } from './http/server.js';
import { observeResponses } from './http/request.js';
import { ServerMetrics, apiOfPath } from './metrics.js';
import { startSelfReport } from './self-report.js';
import { RejectionLog } from './rejection-log.js';
import { log } from './log.js';
import { InflightBudget } from './pool/budget.js';
import { WorkerPool } from './pool/pool.js';
import { startLineServer } from './telnet/listener.js';
import { startOneNetFirmwarePort } from './http/onenet-firmware-port.js';

/**
 * Before any worker exists, a shard LOCK naming our own pid can only come from an earlier process
 * that had the same pid (containers restart as pid 1): clear those so the shards can be claimed.
 */
function clearStaleLocks(dataDir: string): void {
  const shards = path.join(dataDir, SHARDS_DIR);
  if (!fs.existsSync(shards)) return;
  for (const name of fs.readdirSync(shards)) {
    if (/^\d+$/.test(name) && ShardWriter.clearStaleLockOfThisProcess(path.join(shards, name))) {
      log({ level: 'warn', event: 'shard.stale-lock-cleared', shard: Number(name) });
    }
  }
}

/**
 * Opens the credential store for the server: generates the admin token on first start (written
 * only to <data>/admin-token, mode 0600) and re-reads the log every second so CLI changes (and
 * revocations) apply without a restart. A damaged store does not stop the server: it fails closed
 * (CAVE/OneNET/admin refused, logged) while KairosDB and OpenTSDB keep serving.
 */
function openCredentials(dataDir: string): CredentialStore {
  const credentials = CredentialStore.openFailingClosed(dataDir, { log });
  if (credentials.healthy) {
    try {
      credentials.ensureAdminToken();
    } catch (err) {
      log({ level: 'error', event: 'auth.admin-token-failed', message: `${(err as Error).message}; the admin API refuses every request until it is fixed` });
    }
  }
  credentials.watch();
  return credentials;
}

async function serve(config: ServerConfig): Promise<void> {
  fs.mkdirSync(config.dataDir, { recursive: true });
  clearStaleLocks(config.dataDir);
  const budget = new InflightBudget(config.maxInflightBytes);
  // Its gauges read the pool only when scraped, after the pool has started.
  const metrics = new ServerMetrics({ queuedTasks: () => pool.queuedTasks, inflightBytes: () => budget.inUseBytes, inflightLimitBytes: budget.limitBytes, dataDir: config.dataDir });
  const pool = await WorkerPool.start({
    onResult: (task, result) => metrics.observeResult(task, result),
    onStats: (stats) => metrics.observeStats(stats),
    threads: config.threads,
    maxQueuedTasks: config.maxQueuedTasks,
    // Groups end at 1 MiB or 256 parts so one group's decode stays a few ms (latency of its first part).
    coalescing: { maxPartBytes: config.coalesceMaxBodyBytes, maxGroupBytes: 1024 * 1024, maxGroupParts: 256 },
    workerData: { dataDir: config.dataDir, sync: config.sync, syncIntervalMs: config.syncIntervalMs, compactCheckMs: config.compactCheckMs, segmentBytes: config.segmentBytes, openTsdbMaxTags: config.openTsdbMaxTags, onenetTimeZone: config.onenetTimeZone, warmUpPoints: config.warmUpPoints },
  });
  const rejections = new RejectionLog(log);
  observeResponses((path, status, seconds) => {
    const api = apiOfPath(path);
    metrics.observeResponse(api, status, seconds);
    rejections.note(api, status, path);
  });
  const credentials = openCredentials(config.dataDir);
  const http = await startHttpServer({ config, pool, budget, credentials, metrics, healthy: () => true }, config.host, config.httpPort);
  const selfReport = startSelfReport({ intervalMs: config.selfReportIntervalMs, metrics, pool, maxInflatedBytes: config.maxInflatedBytes });
  const line = await startLineServer({ host: config.host, port: config.telnetPort, httpPort: http.port, pool, budget, throttleAfterMs: config.lineThrottleMs });
  // OneNET firmware (HTTP/1.0, stray CRLFs) on its own port, relayed to the HTTP port: off unless --onenet-port.
  const firmware = config.onenetPort >= 0 ? await startOneNetFirmwarePort({ host: config.host, port: config.onenetPort, httpPort: http.port }) : undefined;
  process.stdout.write(`${JSON.stringify({ event: 'listening', http: http.port, telnet: line.port, ...(firmware ? { onenet: firmware.port } : {}) })}\n`);
  log({ event: 'server.started', dataDir: config.dataDir, threads: config.threads, shards: pool.shards, sync: config.sync });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log({ event: 'server.stopping', signal });
    selfReport.stop();
    http.stopListening();
    await line.stopListening().catch(() => undefined);
    await line.closeAll(10_000);
    firmware?.closeAll();
    await firmware?.stopListening().catch(() => undefined);
    await pool.close(30_000);
    log({ event: 'server.stopped' });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const readFile = (f: string): string => fs.readFileSync(f, 'utf8');
  if (isToolCommand(argv)) {
    // strata inspect | export | import (src/cli/tools/): data tools, streamed, so asynchronous.
    process.exitCode = await runTool(argv, { env: process.env, cwd: process.cwd(), stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, stderrIsTty: process.stderr.isTTY === true, readFile });
    return;
  }
  if (isCommand(argv)) {
    const write = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(text);
    process.exitCode = runCommand(argv, { env: process.env, cwd: process.cwd(), stdout: write(process.stdout), stderr: write(process.stderr), readFile });
    return;
  }
  let result;
  try {
    result = loadConfig(argv[0] === 'serve' ? argv.slice(1) : argv, process.env, process.cwd(), readFile);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`strata: ${err.message}\nRun strata --help for the options.\n`);
      process.exit(2);
    }
    throw err;
  }
  if (result.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (result.printConfig) {
    process.stdout.write(`${describeConfig(result.config, result.sources)}\n`);
    return;
  }
  await serve(result.config);
}

main().catch((err: unknown) => {
  log({ level: 'error', event: 'server.failed', message: (err as Error)?.stack ?? String(err) });
  process.exit(1);
});
