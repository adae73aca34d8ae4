import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURE_DIR = join(ROOT, 'test', 'fixtures');
export const BUILD_DIR = join(ROOT, 'test', '.build');
/** The installed launcher, exactly as users run it. */
export const PIDONE = join(ROOT, 'bin', 'pidone');

/** A compiled C fixture: the binary built from test/fixtures/, name.c. */
export function fixture(name: string): string {
  return join(BUILD_DIR, name);
}
