// `npm run build:prebuild`: build the addon for this platform with prebuildify, into
// prebuilds/<platform>-<arch>/node.napi.<libc>.node, where node-gyp-build (the install
// script) and the loader (src/kernel/linux/loader.ts) find it.
//
// One N-API build serves every Node version from 20 on. It is tagged with the libc it
// was built against (glibc here), so a musl system builds from source instead of
// loading it, and it needs a glibc at least as new as the build machine's.
//
// The build runs in a scratch copy of binding.gyp and native/: node-gyp rebuild
// deletes and rewrites build/, and tests running meanwhile load build/Release.
// The native launcher (native/launcher.c, statically linked where the toolchain can)
// ships next to the addon as prebuilds/<platform>-<arch>/pidone; the install script
// puts it in bin/pidone once it has run here (scripts/install.js).
//
// Prebuilds are not committed; CI makes them before `npm pack` (.ci/run).
//
// Run it through npm (`npm run build:prebuild`), which hands node-gyp the npm config
// (nodedir, for instance) as npm_config_* variables.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const scratch = mkdtempSync(join(tmpdir(), 'pidone-prebuild-'));
try {
  for (const entry of ['package.json', 'binding.gyp', 'native']) {
    cpSync(join(root, entry), join(scratch, entry), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(scratch, 'node_modules'), 'dir');
  const prebuildify = join(dirname(require.resolve('prebuildify/package.json')), 'bin.js');
  const out = join(scratch, 'out');
  const r = spawnSync(
    process.execPath,
    [prebuildify, '--napi', '--strip', '--tag-libc', '--cwd', scratch, '--out', out],
    // JOBS=max: node-gyp runs make -j with one job per core.
    { cwd: scratch, stdio: 'inherit', env: { JOBS: 'max', ...process.env } },
  );
  if (r.status !== 0) {
    process.stderr.write(`pidone: prebuildify failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})\n`);
    process.exit(1);
  }
  // The launcher, built by the same node-gyp run, stripped like the addon.
  const launcher = join(scratch, 'build', 'Release', 'pidone');
  const tupleDir = join(out, 'prebuilds', `${process.platform}-${process.arch}`);
  if (!existsSync(launcher) || !existsSync(tupleDir)) {
    process.stderr.write(`pidone: the native launcher was not built (${launcher})\n`);
    process.exit(1);
  }
  cpSync(launcher, join(tupleDir, 'pidone'));
  chmodSync(join(tupleDir, 'pidone'), 0o755);
  spawnSync('strip', [join(tupleDir, 'pidone')], { stdio: 'inherit' });
  // Replace this platform's prebuilds as a whole: a stale name must not linger.
  for (const tuple of readdirSync(join(out, 'prebuilds'))) {
    const target = join(root, 'prebuilds', tuple);
    mkdirSync(join(root, 'prebuilds'), { recursive: true });
    const staging = `${target}.new-${process.pid}`;
    cpSync(join(out, 'prebuilds', tuple), staging, { recursive: true });
    rmSync(target, { recursive: true, force: true });
    renameSync(staging, target);
    for (const file of readdirSync(target)) process.stdout.write(`prebuilds/${tuple}/${file}\n`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
