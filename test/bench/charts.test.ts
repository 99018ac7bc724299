// The SVG chart renderer behind docs/charts/ (bench/charts.ts).
import { describe, expect, it } from 'vitest';
import { renderChart, shortNumber } from '../../bench/charts.js';

describe('bench charts', () => {
  it('prints numbers short', () => {
    expect([1_234_567, 340_000, 1_500, 12.4, 0.456].map(shortNumber)).toEqual(['1.23M', '340k', '1.5k', '12', '0.46']);
  });

  it('draws every series on log axes, point by point, with a legend', () => {
    const svg = renderChart({
      title: 'points/s by batch',
      xLabel: 'batch',
      yLabel: 'points/s',
      xLog: true,
      yLog: true,
      series: [
        { name: 'on', points: [[1, 20_000], [10, 200_000], [5000, 1_300_000]] },
        { name: 'off & <raw>', points: [[10, 50_000]] },
      ],
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(4);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain('off &amp; &lt;raw&gt;');
    expect(svg).toContain('>1.3M<');
    // Log x axis from 1 to 10,000: the batch-1 point sits on the left edge, 5,000 near the right.
    const xs = [...svg.matchAll(/<circle cx="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(xs[0]).toBeCloseTo(80, 0);
    expect(xs[2]).toBeGreaterThan(xs[1]!);
    // Ticks at powers of ten on both axes.
    expect(svg).toContain('>100<');
    expect(svg).toContain('>1M<');
  });
});
