import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURE_DIR = join(ROOT, 'test', 'fixtures');
export const BUILD_DIR = join(ROOT, 'test', '.build');
/** The sh launcher (bin/pidone): the fallback where the native launcher does not build. */
export const PIDONE_SH = join(ROOT, 'bin', 'pidone');
/** The native launcher (native/launcher.c), as `npm run install` builds it. */
export const PIDONE_NATIVE = join(ROOT, 'build', 'Release', 'pidone');
/**
 * The launcher users run: the native one, which an installed package and the image put
 * in bin/pidone (docs/decisions.md, "The native launcher"), when it is built; else the
 * sh launcher, which is what those get where it does not build.
 */
export const PIDONE = existsSync(PIDONE_NATIVE) ? PIDONE_NATIVE : PIDONE_SH;

/** A compiled C fixture: the binary built from test/fixtures/, name.c. */
export function fixture(name: string): string {
  return join(BUILD_DIR, name);
}
