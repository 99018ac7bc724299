// `npm run bench`: runs every suite in turn (one process, so they never compete for the two
// cores) and prints each one's table; each suite also writes bench/results/<suite>.json.
import { main as append } from './append.bench.js';
import { main as catalog } from './catalog.bench.js';
import { main as codec } from './codec.bench.js';
import { main as compaction } from './compaction.bench.js';
import { main as scan } from './scan.bench.js';

const suites: [string, () => Promise<unknown>][] = [
  ['codec', codec],
  ['append', append],
  ['scan', scan],
  ['compaction', compaction],
  ['catalog', catalog],
];
for (const [name, run] of suites) {
  console.log(`\n## ${name}`);
  await run();
}
