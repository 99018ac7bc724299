// The running package's version ("version" of the package.json named "strata"), found by walking
// up from this module, so the same code works from src/ (tests) and dist/src/ (the build). Read
// once, at first import; never throws ("unknown" when no package.json is found).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

function readPackageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'strata' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // No (readable) package.json here: look one level up.
    }
    dir = path.dirname(dir);
  }
  return 'unknown';
}

/** Strata's version, e.g. "0.1.0". */
export const PACKAGE_VERSION: string = readPackageVersion();
