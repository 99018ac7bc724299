// The `npm test` slice of the fuzzers: 10,000 inputs of a target under a fixed seed (override
// with FUZZ_SEED / FUZZ_INPUTS to explore), failing with the replay command and the input.
import { expect, it } from 'vitest';
import { describeFailure, runTarget } from './run.js';
import { targetByName } from './targets.js';

export const SLICE_INPUTS = Number(process.env['FUZZ_INPUTS'] ?? 10_000);
export const SLICE_SEED = Number(process.env['FUZZ_SEED'] ?? 1);

/**
 * One `it` per target: every input keeps the target's properties, none takes over 2 s, and the
 * mix is not degenerate — some inputs are accepted and some refused (the mutators reach both sides
 * of every decoder's checks, so the properties are not vacuously true).
 */
export function fuzzSlice(name: string): void {
  it(`${name}: ${SLICE_INPUTS} mutated inputs (seed ${SLICE_SEED}) keep every property`, () => {
    const stats = runTarget(targetByName(name), { seed: SLICE_SEED, count: SLICE_INPUTS, maxInputMs: 2000 });
    if (stats.failure !== null) expect.fail(describeFailure(stats.failure));
    expect(stats.inputs).toBe(SLICE_INPUTS);
    const { accepted, partial, rejected } = stats.outcomes;
    expect(accepted + partial, `${name}: accepted ${accepted}, partial ${partial}, rejected ${rejected}`).toBeGreaterThan(SLICE_INPUTS * 0.02);
    expect(rejected + partial, `${name}: accepted ${accepted}, partial ${partial}, rejected ${rejected}`).toBeGreaterThan(SLICE_INPUTS * 0.02);
  });
}
