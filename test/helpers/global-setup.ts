/**
 * Builds the C test fixtures (test/fixtures/*.c) into test/.build/ once per run, with
 * the same compiler node-gyp uses for the addon.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD_DIR, FIXTURE_DIR } from './paths.js';

export default function setup(): void {
  mkdirSync(BUILD_DIR, { recursive: true });
  const cc = process.env['CC'] ?? 'cc';
  for (const file of readdirSync(FIXTURE_DIR)) {
    if (!file.endsWith('.c')) continue;
    const source = join(FIXTURE_DIR, file);
    const output = join(BUILD_DIR, file.slice(0, -2));
    try {
      const built = statSync(output).mtimeMs;
      const headers = readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.h'));
      const newest = Math.max(statSync(source).mtimeMs, ...headers.map((h) => statSync(join(FIXTURE_DIR, h)).mtimeMs));
      if (built >= newest) continue;
    } catch {
      // Not built yet.
    }
    execFileSync(cc, ['-O2', '-Wall', '-o', output, source], { stdio: 'inherit' });
  }
}
