/**
 * Real-kernel tests need root (or user namespaces) to be PID 1 of a new PID namespace.
 * Where they cannot run they skip, saying why. Under CI (CI=true) as root they must
 * run: there a missing capability is a failure, not a skip.
 */
import { spawnSync } from 'node:child_process';
import { describe } from 'vitest';

export interface Support {
  readonly ok: boolean;
  readonly reason: string;
}

let cached: Support | undefined;

/** Can this machine run `unshare --pid --fork --mount-proc`? */
export function namespaceSupport(): Support {
  if (cached) return cached;
  const r = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { encoding: 'utf8' });
  if (r.error) cached = { ok: false, reason: `unshare is not available (${r.error.message}); install util-linux` };
  else if (r.status !== 0) cached = { ok: false, reason: `unshare --pid --fork --mount-proc failed: ${r.stderr.trim() || `exit ${r.status}`} (needs root)` };
  else cached = { ok: true, reason: '' };
  return cached;
}

export const inCiAsRoot = process.env['CI'] === 'true' && process.getuid?.() === 0;

/**
 * describe() for tests that need PID namespaces: skipped with a printed reason where
 * they cannot run, except in CI as root, where the block fails instead.
 */
export function describeWithNamespaces(name: string, fn: () => void): void {
  const support = namespaceSupport();
  if (support.ok) {
    describe(name, fn);
    return;
  }
  if (inCiAsRoot) {
    describe(name, () => {
      throw new Error(`${name}: needs PID namespaces, which CI as root must have: ${support.reason}`);
    });
    return;
  }
  console.warn(`skipping "${name}": ${support.reason}`);
  describe.skip(name, fn);
}
