// `npm run bench`: runs every suite in turn (one process, so they never compete for the two
// cores) and prints each one's table; each suite also writes bench/results/<suite>.json.
// `node --expose-gc dist/bench/run.js append scan` runs only the named suites. Each suite file
// also runs alone: `node --expose-gc dist/bench/<suite>.bench.js`.
import { main as append } from './append.bench.js';
import { main as catalog } from './catalog.bench.js';
import { main as codec } from './codec.bench.js';
import { main as compaction } from './compaction.bench.js';
import { main as firstSight } from './first-sight.bench.js';
import { main as opentsdb } from './opentsdb.bench.js';
import { machine } from './report.js';
import { main as scan } from './scan.bench.js';
import { main as telnet } from './telnet.bench.js';

const suites: [string, () => Promise<unknown>][] = [
  ['codec', codec],
  ['append', append],
  ['opentsdb', opentsdb],
  ['first-sight', firstSight],
  ['telnet', telnet],
  ['scan', scan],
  ['compaction', compaction],
  ['catalog', catalog],
];
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !suites.some(([name]) => name === w));
if (unknown.length > 0) throw new Error(`unknown suite(s) ${unknown.join(', ')}; known: ${suites.map(([n]) => n).join(', ')}`);
if ((globalThis as { gc?: unknown }).gc === undefined) console.log('note: run with node --expose-gc for the heap figures');
console.log(machine());
for (const [name, run] of suites) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n## ${name}`);
  const t0 = performance.now();
  await run();
  console.log(`(${name}: ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}
