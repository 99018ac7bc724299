// The sweep behind docs/benchmarks.md's charts (issue 6): Strata's OpenTSDB /api/put ingest by
// batch size (closed loop), with ingest groups on and off (decision 0014), and latency
// percentiles by offered load (open loop at fractions of the batch-5,000 maximum). Each point is
// one `bench/load` process against a fresh server; the JSON lines go to --out and the charts to
// --charts (SVG, bench/charts.ts). `--from FILE` redraws the charts from an earlier --out.
//
//   npx tsc -p tsconfig.json && node dist/bench/sweep.js --out sweep.jsonl --charts docs/charts
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { renderChart, type ChartSeries } from './charts.js';
import { runLoadProcess, warmUp, type LoadLine } from './load/process.js';
import { spawnServer } from './load/server.js';

const { values: a } = parseArgs({
  options: {
    batches: { type: 'string', default: '1,10,50,100,1000,5000' },
    'off-batches': { type: 'string', default: '1,10,50' },
    fractions: { type: 'string', default: '0.1,0.25,0.5,0.75,0.9' },
    'small-concurrency': { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    out: { type: 'string', default: 'sweep.jsonl' },
    charts: { type: 'string', default: 'docs/charts' },
    from: { type: 'string' },
    /** Closed-loop points/s at batch 5,000 to take the fractions of (default: measured here). */
    max: { type: 'string' },
  },
});
const list = (s: string): number[] => s.split(',').filter(Boolean).map(Number);

async function runLoad(label: string, args: readonly string[]): Promise<LoadLine> {
  const line = await runLoadProcess(['--format', 'opentsdb', '--baseline-passes', '1', ...args], label, a.out);
  process.stderr.write(`${label}: ${Math.round(line.result.pointsPerS)} points/s, p99 ${line.result.latencyMs.p99Ms.toFixed(1)} ms\n`);
  return line;
}

/** Points per run: enough requests to reach a steady state, at most 2 M points. */
function pointsFor(batch: number): number {
  return Math.min(2_000_000, Math.max(100_000, batch * 20_000));
}

function concurrencyFor(batch: number): number {
  return batch <= 100 ? Number(a['small-concurrency']) : 4;
}

async function measure(): Promise<LoadLine[]> {
  const lines: LoadLine[] = [];
  for (const batch of list(a.batches!)) {
    const common = ['--spawn', '--threads', a.threads!, '--batch', String(batch), '--points', String(pointsFor(batch)), '--concurrency', String(concurrencyFor(batch))];
    lines.push(await runLoad(`batch:on`, common));
    if (list(a['off-batches']!).includes(batch)) {
      lines.push(await runLoad(`batch:off`, [...common, '--server-arg=--coalesce-max-body-bytes', '--server-arg=0']));
    }
  }
  const max = a.max !== undefined ? Number(a.max) : lines.filter((l) => l.label === 'batch:on' && l.config.batch === 5000).map((l) => l.result.pointsPerS)[0];
  if (max !== undefined) {
    // Open loop on a warmed-up server (bench/load/process.ts, warmUp), so the start-up is not measured.
    for (const f of list(a.fractions!)) {
      const server = await spawnServer({ threads: Number(a.threads) });
      try {
        const url = `http://127.0.0.1:${server.http}/api/put`;
        await warmUp(url, server.pid, 200_000);
        const args = ['--url', url, '--server-pid', String(server.pid), '--verify', 'none', '--batch', '5000', '--points', '2000000', '--concurrency', '16'];
        lines.push(await runLoad(`rate:${f}`, [...args, '--rate', String(Math.round(max * f))]));
      } finally {
        await server.stop();
      }
    }
  }
  return lines;
}

function draw(lines: readonly LoadLine[]): void {
  fs.mkdirSync(a.charts!, { recursive: true });
  const byBatch = (label: string, value: (l: LoadLine) => number): ChartSeries['points'] =>
    lines.filter((l) => l.label === label).map((l) => [l.config.batch, value(l)] as const);
  const throughput: ChartSeries[] = [
    { name: 'ingest groups on (default)', points: byBatch('batch:on', (l) => l.result.pointsPerS) },
    { name: 'groups off', points: byBatch('batch:off', (l) => l.result.pointsPerS) },
  ].filter((s) => s.points.length > 0);
  fs.writeFileSync(
    path.join(a.charts!, 'points-by-batch.svg'),
    renderChart({ title: 'OpenTSDB /api/put: points/s by batch size', xLabel: 'points per request (log)', yLabel: 'points/s', xLog: true, yLog: true, series: throughput }),
  );
  const rates = lines.filter((l) => l.label.startsWith('rate:'));
  const offered = (l: LoadLine): number => Number(l.label.slice(5)) * 100;
  if (rates.length > 0) {
    fs.writeFileSync(
      path.join(a.charts!, 'latency-by-load.svg'),
      renderChart({
        title: 'Latency by offered load (batch 5,000, open loop)',
        xLabel: "offered load, % of Strata's closed-loop maximum",
        yLabel: 'ms (log)',
        yLog: true,
        series: [
          { name: 'p50', points: rates.map((l) => [offered(l), l.result.latencyMs.p50Ms] as const) },
          { name: 'p99', points: rates.map((l) => [offered(l), l.result.latencyMs.p99Ms] as const) },
          { name: 'p99.9', points: rates.map((l) => [offered(l), l.result.latencyMs.p999Ms] as const) },
        ],
      }),
    );
  }
}

async function main(): Promise<void> {
  const lines = a.from !== undefined ? fs.readFileSync(a.from, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LoadLine) : await measure();
  draw(lines);
  const at = (label: string, batch: number): number | undefined => lines.find((l) => l.label === label && l.config.batch === batch)?.result.pointsPerS;
  const b10 = at('batch:on', 10);
  const b5000 = at('batch:on', 5000);
  if (b10 !== undefined && b5000 !== undefined) process.stdout.write(`batch 10 ÷ batch 5000: ${(b10 / b5000).toFixed(3)} (target ≥ 0.25)\n`);
  for (const b of list(a['off-batches']!)) {
    const on = at('batch:on', b);
    const off = at('batch:off', b);
    if (on !== undefined && off !== undefined) process.stdout.write(`batch ${b}: groups on ÷ off ${(on / off).toFixed(2)}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
