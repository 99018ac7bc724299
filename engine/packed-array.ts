// Empty arrays made in the V8 elements kind they end up in, for engine objects whose arrays are
// read by code that the worker's warm-up compiled on other instances (decision 0017).
//
// Why: `[]` starts as PACKED_SMI_ELEMENTS and moves to PACKED_ELEMENTS at its first string or
// object element. Compiled code checks the array's map, and the warm-up's instances (a scratch
// shard's writer, catalog and segment index) had long moved on when TurboFan compiled it, so the
// first access to a fresh instance's still-empty array threw that code away ("wrong map" in
// Catalog.symbolAt / knownSymbol / addSymbol, ShardWriter.encodeBatch, SegmentIndex.addSeries;
// `--trace-deopt` during the peers workload) and V8 compiled it again. An array that is
// PACKED_ELEMENTS from the start has the same map in every instance, before and after its first
// element; appending (push, or a store at index `length`) keeps it packed.

/**
 * A new empty array in PACKED_ELEMENTS (the kind of an array of strings, objects or
 * `undefined`), as `[]` becomes after its first such element. In every other respect it is `[]`.
 */
export function emptyPackedArray<T>(): T[] {
  // An array literal with a non-number element is created in PACKED_ELEMENTS; truncating it
  // keeps the kind (V8 never moves an array back to a more specific kind).
  const array: unknown[] = [undefined];
  array.length = 0;
  return array as T[];
}
