// `node scripts/stage-image.js DEST`: lay out in DEST what the Dockerfile's final
// stage holds under /opt/pidone, from a checkout where the addon and dist/ are built
// (`npm ci`, or `npm run install && npm run build`):
//
//   DEST/package.json, package-lock.json   (version, and the lock for the install below)
//   DEST/bin/pidone                        (the native launcher, native/launcher.c)
//   DEST/bin/pidone.sh                     (the sh launcher: the JavaScript half)
//   DEST/dist/                             (the compiled TypeScript)
//   DEST/build/Release/pidone.node         (the addon that loads here)
//   DEST/node_modules/                     (production dependencies only)
//
// The Dockerfile runs this very script in its build stage and copies DEST into the
// final image; the container tests (test/container/) run it too and mount DEST at
// /opt/pidone in a runc container, so that what they test is what the image holds.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const destArg = process.argv[2];
if (!destArg) {
  process.stderr.write('usage: node scripts/stage-image.js DEST\n');
  process.exit(2);
}
const dest = resolve(destArg);

/** The addon to ship: the one the loader would pick (a build first, else the prebuild). */
function addonPath() {
  const candidates = [join(root, 'build', 'Release', 'pidone.node')];
  const prebuilds = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  if (existsSync(prebuilds)) {
    for (const f of readdirSync(prebuilds).sort()) if (f.endsWith('.node') && !f.includes('musl')) candidates.push(join(prebuilds, f));
  }
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    process.stderr.write(`stage-image: no addon built (tried ${candidates.join(', ')}); run 'npm run install' first\n`);
    process.exit(1);
  }
  return found;
}

/** The native launcher to ship: the build's, else the prebuild's (docs/decisions.md, "The native launcher"). */
function launcherPath() {
  const candidates = [join(root, 'build', 'Release', 'pidone'), join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'pidone')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    process.stderr.write(`stage-image: no native launcher built (tried ${candidates.join(', ')}); run 'npm run install' first\n`);
    process.exit(1);
  }
  return found;
}

if (!existsSync(join(root, 'dist', 'pidone.cjs'))) {
  process.stderr.write("stage-image: dist/ is not built; run 'npm run build' first\n");
  process.exit(1);
}

rmSync(dest, { recursive: true, force: true });
mkdirSync(join(dest, 'build', 'Release'), { recursive: true });
for (const entry of ['package.json', 'package-lock.json', 'bin', 'dist']) {
  cpSync(join(root, entry), join(dest, entry), { recursive: true });
}
cpSync(addonPath(), join(dest, 'build', 'Release', 'pidone.node'));
// bin/pidone as an installed package has it (scripts/install.js): the native launcher,
// with the sh launcher beside it as bin/pidone.sh, where the native one finds the
// JavaScript half.
renameSync(join(dest, 'bin', 'pidone'), join(dest, 'bin', 'pidone.sh'));
cpSync(launcherPath(), join(dest, 'bin', 'pidone'));
chmodSync(join(dest, 'bin', 'pidone'), 0o755);

// Production dependencies only, exactly as locked; no install scripts (the addon is
// already there, and nothing else pidone depends on has one).
const npm = spawnSync(
  'npm',
  ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
  { cwd: dest, stdio: ['ignore', 'inherit', 'inherit'] },
);
if (npm.status !== 0) {
  process.stderr.write(`stage-image: npm ci --omit=dev failed (${npm.error?.message ?? `exit ${npm.status}`})\n`);
  process.exit(1);
}
process.stdout.write(`staged pidone in ${dest}\n`);
