// Which column encodings a writer may use, named by the docs/format/codecs.md §Version history
// row that introduced them. Readers always decode every version; only writers are held back: to
// stay readable by an older Strata during a rolling upgrade or a downgrade, and to reproduce the
// v1 golden fixture byte for byte (test/fixtures/format-v1-data.ts). Never touches bytes itself.

/**
 * 1 = the first codecs (floats Raw, Gorilla, DecimalScaled); 2 adds floats DecimalPacked; 3 adds
 * the run columns layout of a block's runs section (docs/format/block.md §Runs).
 */
export type CodecsVersion = 1 | 2 | 3;

export const LATEST_CODECS_VERSION: CodecsVersion = 3;

/**
 * The version a writer uses when it is not given one. Module state, so it is per thread
 * (each worker has its own); written only through setCodecsWriteVersion.
 */
let writeVersion: CodecsVersion = LATEST_CODECS_VERSION;

/** The version writers of this thread use when not given one (see setCodecsWriteVersion). */
export function codecsWriteVersion(): CodecsVersion {
  return writeVersion;
}

/**
 * Holds this thread's writers (ingest and compaction) to the encodings of `version` and older for
 * every BlockEncoder created from now on; returns the previous setting so a caller can restore it. Already-written files are not
 * affected. Throws RangeError on a version this build does not know.
 */
export function setCodecsWriteVersion(version: CodecsVersion): CodecsVersion {
  if (version !== 1 && version !== 2 && version !== 3) throw new RangeError(`unknown codecs version ${String(version)}`);
  const previous = writeVersion;
  writeVersion = version;
  return previous;
}
