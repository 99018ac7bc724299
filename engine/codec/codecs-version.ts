// Which column encodings a writer may use, named by the docs/format/codecs.md §Version history
// row that introduced them. Readers always decode every version; only writers are held back: to
// stay readable by an older Strata during a rolling upgrade or a downgrade, and to reproduce the
// v1 golden fixture byte for byte (test/fixtures/format-v1-data.ts). Never touches bytes itself.

/** 1 = the first codecs (floats Raw, Gorilla, DecimalScaled); 2 adds floats DecimalPacked. */
export type CodecsVersion = 1 | 2;

export const LATEST_CODECS_VERSION: CodecsVersion = 2;

/**
 * The version a dense writer uses when it is not given one. Module state, so it is per thread
 * (each worker has its own); written only through setCodecsWriteVersion.
 */
let writeVersion: CodecsVersion = LATEST_CODECS_VERSION;

/** The version dense writers of this thread use when not given one (see setCodecsWriteVersion). */
export function codecsWriteVersion(): CodecsVersion {
  return writeVersion;
}

/**
 * Holds this thread's dense writers (compaction) to the encodings of `version` and older from now
 * on; returns the previous setting so a caller can restore it. Already-written files are not
 * affected. Throws RangeError on a version this build does not know.
 */
export function setCodecsWriteVersion(version: CodecsVersion): CodecsVersion {
  if (version !== 1 && version !== 2) throw new RangeError(`unknown codecs version ${String(version)}`);
  const previous = writeVersion;
  writeVersion = version;
  return previous;
}
