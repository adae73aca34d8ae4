/**
 * Finds and loads the native addon. A failure names every path tried, the platform,
 * the Node ABI and the fixes; a file that exists but does not load (ABI or glibc
 * mismatch) is reported with its own error, never hidden behind "not built".
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeAddon } from './addon.js';

export class NativeLoadError extends Error {
  override readonly name = 'NativeLoadError';
  constructor(
    readonly tried: readonly string[],
    override readonly cause?: unknown,
  ) {
    const why =
      cause instanceof Error
        ? `it failed to load: ${cause.message.split('\n')[0]}`
        : 'no built addon was found';
    super(
      `pidone: cannot load the native addon pidone.node (${why}). ` +
        `Tried: ${tried.join(', ')}. Platform ${process.platform}-${process.arch}, ` +
        `Node ${process.version} (ABI ${process.versions.modules}). ` +
        `Fix: run 'npm rebuild pidone' (needs python3, make and a C++ compiler), ` +
        `or test without the real kernel using the simulator (pidone-sim).`,
    );
  }
}

/** The package root: this file is src/kernel/linux/loader.ts or dist/kernel/linux/loader.js. */
export function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

/** The places the addon may be, in the order they are tried. */
export function candidatePaths(root: string = packageRoot()): string[] {
  const paths = [join(root, 'build', 'Release', 'pidone.node'), join(root, 'build', 'Debug', 'pidone.node')];
  const prebuilds = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  if (existsSync(prebuilds)) {
    for (const name of readdirSync(prebuilds).sort()) {
      // prebuildify names: node.napi.node, node.napi.glibc.node, ...; skip musl builds on glibc.
      if (!name.endsWith('.node') || name.includes('musl')) continue;
      paths.push(join(prebuilds, name));
    }
  } else {
    paths.push(join(prebuilds, 'node.napi.node'));
  }
  return paths;
}

/**
 * Load the addon from `from` (a path, or an already loaded object, which makes this
 * testable), else from the first candidate path that exists.
 */
export function loadAddon(from?: string | NativeAddon, root?: string): NativeAddon {
  if (from !== undefined && typeof from !== 'string') return from;
  const require = createRequire(import.meta.url);
  const tried = from !== undefined ? [from] : candidatePaths(root);
  for (const path of tried) {
    if (!existsSync(path)) continue;
    try {
      return require(path) as NativeAddon;
    } catch (error) {
      throw new NativeLoadError(tried, error);
    }
  }
  throw new NativeLoadError(tried);
}
