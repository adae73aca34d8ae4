/**
 * The Docker suite's setup: finds the engine (DOCKER_HOST as set), builds the images
 * (scripts/docker-images.sh: the base, then pidone:test from the Dockerfile) and the
 * images derived from pidone's that the compat tests run, then removes every
 * container the suite left when the run ends.
 *
 * No engine: the suite skips with the reason printed, except under CI=true, where a
 * missing engine is a failure (CI starts one: .ci/run).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ROOT } from '../helpers/paths.js';
import { COMPAT_IMAGES, IMAGE, LABEL } from './docker.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Why the Docker suite cannot run here; empty when it can. */
    dockerSkipReason: string;
  }
}

function run(args: string[], input?: string): void {
  const r = spawnSync('docker', args, { input, stdio: [input === undefined ? 'ignore' : 'pipe', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
}

function removeLeftContainers(): void {
  const ids = spawnSync('docker', ['ps', '-aq', '--filter', `label=${LABEL}`], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? [];
  if (ids.length > 0) spawnSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
}

export default function setup(project: TestProject): () => void {
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8' });
  if (info.error || info.status !== 0) {
    const why = info.error ? `docker: ${info.error.message}` : (info.stderr.trim().split('\n').pop() ?? `docker info exited ${info.status}`);
    const reason = `no Docker engine answers at ${process.env['DOCKER_HOST'] ?? 'the default socket'} (${why}); start one: scripts/docker-engine.sh start DIR`;
    if (process.env['CI'] === 'true') throw new Error(`the Docker suite must run under CI=true, but ${reason}`);
    process.stderr.write(`test/docker: skipping the Docker suite: ${reason}\n`);
    project.provide('dockerSkipReason', reason);
    return () => {};
  }
  process.stderr.write(`test/docker: Docker engine ${info.stdout.trim()}\n`);
  // PIDONE_DOCKER_SKIP_BUILD=1 runs against the pidone:test already there (a second
  // run right after a build); the default builds, which reuses docker's layer cache.
  if (process.env['PIDONE_DOCKER_SKIP_BUILD'] !== '1') {
    const built = spawnSync(join(ROOT, 'scripts', 'docker-images.sh'), { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PIDONE_IMAGE: IMAGE } });
    if (built.status !== 0) throw new Error(`scripts/docker-images.sh failed (${built.error?.message ?? `exit ${built.status}`})`);
  }
  // Images derived from pidone's whose ENTRYPOINT is the name of a peer: the links
  // docs/compat.md tells users to make, so that an unchanged ENTRYPOINT runs pidone.
  for (const [name, image] of Object.entries(COMPAT_IMAGES)) {
    const dockerfile = [
      `FROM ${IMAGE}`,
      `RUN ln -s /opt/pidone/bin/pidone /usr/local/bin/${name}`,
      `ENTRYPOINT ["${name}", "--"]`,
      '',
    ].join('\n');
    run(['build', '--quiet', '--network', 'none', '-t', image, '-'], dockerfile);
  }
  removeLeftContainers();
  project.provide('dockerSkipReason', '');
  return removeLeftContainers;
}
