// A real Engine over a fresh temporary data directory holding exactly the given points (one shard,
// written and closed first): the fixture of the query tests.
import { Engine, ShardWriter, shardDirectory } from '../../engine/index.js';
import { batchOf, type TestPoint } from './batches.js';
import { tempDir } from './tmp.js';

export function engineWith(points: readonly TestPoint[], options: { nowMs?: () => number; tmpPrefix?: string } = {}): Engine {
  const dataDir = tempDir(options.tmpPrefix);
  const clock = options.nowMs === undefined ? {} : { nowMs: options.nowMs };
  const writer = ShardWriter.open({ dir: shardDirectory(dataDir, 0), shardId: 0, syncPolicy: 'never', ...clock });
  if (points.length > 0) writer.append(batchOf(points));
  writer.close();
  return Engine.open({ dataDir, ...clock });
}
