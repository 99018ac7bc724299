// CLI of the crash loop (test/reliability/crash-loop.ts), run from dist:
//   npm run crash-loop            (200 kills)
//   node dist/test/reliability/crash-loop-cli.js --kills 50 --seed 7 --sync always --keep
// Prints progress to stderr and the report as JSON on stdout; exits 1 if any rule was broken.
import { parseArgs } from 'node:util';
import { runCrashLoop } from './crash-loop.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '200' },
    seed: { type: 'string' },
    threads: { type: 'string' },
    sync: { type: 'string' },
    'segment-bytes': { type: 'string' },
    'full-verify-every': { type: 'string', default: '10' },
    'data-dir': { type: 'string' },
    keep: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
  strict: true,
});

const int = (text: string | undefined): number | undefined => (text === undefined ? undefined : Number.parseInt(text, 10));
const sync = values.sync;
if (sync !== undefined && sync !== 'interval' && sync !== 'always' && sync !== 'never') throw new Error(`--sync must be interval, always or never`);

const report = await runCrashLoop({
  kills: int(values.kills)!,
  ...(values.seed !== undefined ? { seed: int(values.seed)! } : {}),
  ...(values.threads !== undefined ? { threads: int(values.threads)! } : {}),
  ...(sync !== undefined ? { sync } : {}),
  ...(values['segment-bytes'] !== undefined ? { segmentBytes: int(values['segment-bytes'])! } : {}),
  fullVerifyEvery: int(values['full-verify-every'])!,
  ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
  keep: values.keep,
  log: values.quiet ? () => {} : (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
});
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
process.exitCode = report.violations.length === 0 && report.pointsLost === 0 ? 0 : 1;
