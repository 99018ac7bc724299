// CLI entry. Until the HTTP/telnet service lands (issue: ingest service), `strata` opens the data
// directory the way the server will — recovering every shard and rebuilding the catalog — and
// prints what it holds as one JSON line. Never writes points.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Engine, ShardWriter } from '../engine/index.js';

const HELP = `strata — time-series storage (engine preview)

Usage: strata [--data-dir DIR]

  --data-dir DIR   data directory (default: ./data, or $STRATA_DATA_DIR)
  --help           this text

Opens DIR, recovers every shard (torn tails cut, damaged segments quarantined) and prints a
summary line. The HTTP and telnet front ends arrive with the ingest service.`;

function main(): void {
  const { values } = parseArgs({
    options: { 'data-dir': { type: 'string' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const dataDir = path.resolve(values['data-dir'] ?? process.env['STRATA_DATA_DIR'] ?? 'data');
  const log = (event: object): void => console.log(JSON.stringify(event));
  const probe = Engine.open({ dataDir });
  for (const shardId of probe.shardIds()) {
    ShardWriter.open({ dir: probe.shardDirectory(shardId), shardId, log, syncPolicy: 'never' }).close();
  }
  const engine = Engine.open({ dataDir });
  console.log(
    JSON.stringify({
      event: 'engine.opened',
      dataDir,
      shards: engine.shardIds().length,
      series: engine.catalog.size,
      metrics: engine.catalog.metricNames().length,
    }),
  );
}

main();
