// `strata compact`: compacts every shard of a data directory now, the way a worker does between
// tasks (src/pool/worker.ts), but over everything: each shard's active segment is sealed first,
// so all its points end up in time-partitioned, series-sorted segments (docs/format/compaction.md),
// with deleted and expired points dropped. The server must not hold the shards: a running server
// compacts on its own, and a shard it holds is reported and left alone.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Engine, EngineError, EngineErrorCode, SHARDS_DIR, ShardWriter, shardDirectory, type EngineEvent } from '../../../engine/index.js';
import { ToolError, type Tool, type ToolCall, type ToolContext } from './common.js';

export interface ShardCompaction {
  readonly shardId: number;
  /** Undefined when the shard was held by a running writer (`busy` says by whom). */
  readonly result?: { readonly segmentsIn: number; readonly segmentsOut: number; readonly pointsIn: number; readonly pointsOut: number; readonly bytesIn: number; readonly bytesOut: number; readonly seconds: number };
  readonly busy?: string;
}

/** Compacts each shard of `dataDir` in turn; `note` gets a line per shard as it finishes. */
export function compactDataDirectory(dataDir: string, segmentBytes: number, note: (line: string) => void, log: (e: EngineEvent) => void = () => undefined): ShardCompaction[] {
  const shardsDir = path.join(dataDir, SHARDS_DIR);
  if (!fs.existsSync(shardsDir)) throw new ToolError(`${dataDir} holds no shards (no ${SHARDS_DIR}/ directory)`);
  const shardIds = fs
    .readdirSync(shardsDir)
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
  // Every tombstone of the directory must reach every shard's compaction (ShardWriter.compact);
  // read-only: the owner repairs the log, not this tool.
  const engine = Engine.open({ dataDir, owner: false, log });
  const tombstones = engine.tombstones;
  engine.close();
  const out: ShardCompaction[] = [];
  for (const shardId of shardIds) {
    let writer: ShardWriter;
    try {
      writer = ShardWriter.open({ dir: shardDirectory(dataDir, shardId), shardId, segmentBytes, log });
    } catch (err) {
      if (err instanceof EngineError && err.code === EngineErrorCode.ShardBusy) {
        note(`shard ${shardId}: held by a running writer (${err.message}); it compacts on its own — skipped`);
        out.push({ shardId, busy: err.message });
        continue;
      }
      throw err;
    }
    try {
      const startedMs = performance.now();
      writer.roll();
      const r = writer.compact({ tombstones });
      const result = {
        segmentsIn: r.sources.length,
        segmentsOut: r.outputs.length,
        pointsIn: r.pointsIn,
        pointsOut: r.pointsOut,
        bytesIn: r.bytesIn,
        bytesOut: r.bytesOut,
        seconds: (performance.now() - startedMs) / 1000,
      };
      note(
        `shard ${shardId}: ${result.segmentsIn} segments → ${result.segmentsOut}, ${result.pointsIn} → ${result.pointsOut} points, ` +
          `${result.bytesIn} → ${result.bytesOut} bytes (${result.pointsOut > 0 ? (result.bytesOut / result.pointsOut).toFixed(2) : '0'} bytes/point) in ${result.seconds.toFixed(1)} s`,
      );
      out.push({ shardId, result });
    } finally {
      writer.close();
    }
  }
  return out;
}

export const compactTool: Tool = {
  name: 'compact',
  synopsis: '[--json] [--data-dir DIR]',
  summary: 'Compacts every shard of the data directory now (the server must not be running).',
  options: {
    json: { help: 'print the per-shard results as one JSON array on stdout' },
    'segment-bytes': { value: 'N', help: 'preallocated size of a new segment file (as the server option)' },
  },
  maxPositionals: 0,
  details: [
    'Seals each shard\'s active segment, then rewrites all of its segments into time-partitioned,',
    'series-sorted ones, dropping deleted and expired points (docs/format/compaction.md). A line per',
    'shard goes to stderr as it finishes. A shard held by a running server is skipped: the server',
    'compacts it on its own.',
    'Exit status: 0 every shard compacted, 1 a shard was skipped or compaction failed, 2 bad usage.',
  ].join('\n'),
  async run(call: ToolCall, ctx: ToolContext): Promise<number> {
    const results = compactDataDirectory(call.config.dataDir, call.config.segmentBytes, (line) => ctx.stderr.write(`${line}\n`));
    if (call.flags['json'] === true) ctx.stdout.write(`${JSON.stringify(results)}\n`);
    return results.some((r) => r.busy !== undefined) ? 1 : 0;
  },
};
