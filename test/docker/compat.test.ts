/**
 * Images that keep a peer's ENTRYPOINT (`["tini", "--"]`, `["dumb-init", "--"]`) with
 * that name linked to pidone (docs/compat.md), and `docker run --init`, which puts
 * docker's own tini in front of pidone (pidone is then PID 2 and a subreaper).
 */
import { describe, expect, it } from 'vitest';
import { SIGNAL_APP } from './apps.js';
import {
  COMPAT_IMAGES,
  IMAGE,
  docker,
  dockerSkipReason,
  processes,
  removeContainersAfterEach,
  runDetached,
  runForeground,
  waitExit,
  waitFor,
  waitForOutput,
} from './docker.js';

/** PID 1's launcher record (PIDONE_LAUNCHER, which the launcher sets for pidone alone) and its command line. */
const PID1_LAUNCH = 'tr "\\0" "\\n" </proc/1/environ | grep "^PIDONE_LAUNCHER="; tr "\\0" " " </proc/1/cmdline; exit 3';
const skip = dockerSkipReason();

describe.skipIf(skip !== '')(`compat links and docker run --init${skip ? ` (skipped: ${skip})` : ''}`, () => {
  removeContainersAfterEach();

  it('ENTRYPOINT ["tini", "--"]: pidone in tini mode, exit codes pass, docker stop is fast', async () => {
    const image = COMPAT_IMAGES.tini;
    const version = runForeground(['--entrypoint', 'tini'], image, ['--version']);
    expect(version.stdout.trim()).toBe('tini version 0.19.0');
    const cmdline = runForeground([], image, ['sh', '-c', PID1_LAUNCH]);
    expect(cmdline.status).toBe(3);
    // PID 1 is Node, exec'd by the native launcher that docker ran through the link:
    // the launcher's record keeps the name it was run by, which chose tini mode.
    expect(cmdline.stdout).toMatch(/^PIDONE_LAUNCHER=pid=1 .* argv0=tini\n\S*node .* \/opt\/pidone\/bin\/pidone\.sh -- sh -c/);
    const id = runDetached([], image, ['node', '-e', SIGNAL_APP]);
    await waitForOutput(id, /^ready$/m);
    const stop = docker(['stop', '-t', '30', id]);
    expect(waitExit(id)).toBe(0);
    expect(stop.ms).toBeLessThan(10_000);
  });

  it('ENTRYPOINT ["dumb-init", "--"]: pidone in dumb-init mode, exit codes pass, docker stop is fast', async () => {
    const image = COMPAT_IMAGES['dumb-init'];
    const version = runForeground(['--entrypoint', 'dumb-init'], image, ['--version']);
    expect(version.stderr.trim()).toBe('dumb-init v1.2.5');
    const cmdline = runForeground([], image, ['sh', '-c', PID1_LAUNCH]);
    expect(cmdline.status).toBe(3);
    expect(cmdline.stdout).toMatch(/^PIDONE_LAUNCHER=pid=1 .* argv0=dumb-init\n\S*node .* \/opt\/pidone\/bin\/pidone\.sh -- sh -c/);
    const id = runDetached([], image, ['node', '-e', SIGNAL_APP]);
    await waitForOutput(id, /^ready$/m);
    const stop = docker(['stop', '-t', '30', id]);
    expect(waitExit(id)).toBe(0);
    expect(stop.ms).toBeLessThan(10_000);
  });

  it('docker run --init: docker-init is PID 1, pidone under it passes exit codes and signals and reaps as a subreaper', async () => {
    expect(runForeground(['--init'], IMAGE, ['sh', '-c', 'exit 3']).status).toBe(3);
    const id = runDetached(['--init'], IMAGE, ['sh', '-c', 'for i in 1 2 3; do (sleep 2 &); done; echo spawned; exec node -e "$0"', SIGNAL_APP]);
    await waitForOutput(id, /^ready$/m);
    const list = processes(id);
    const init = list.find((p) => p.pid === 1);
    expect(init?.comm).toBe('docker-init');
    // pidone: PID 1's child that runs node and has children of its own.
    const pidone = list.find((p) => p.ppid === 1 && list.some((c) => c.ppid === p.pid));
    expect(pidone).toBeDefined();
    const orphans = list.filter((p) => p.comm === 'sleep' && p.ppid === pidone?.pid);
    expect(orphans.length).toBe(3);
    await waitFor('the orphans to be reaped by pidone', () =>
      processes(id).some((p) => orphans.some((o) => o.pid === p.pid)) ? undefined : true,
    );
    expect(processes(id).filter((p) => p.state === 'Z')).toEqual([]);
    expect(docker(['kill', '-s', 'USR2', id]).status).toBe(0);
    await waitForOutput(id, /^got SIGUSR2$/m);
    const stop = docker(['stop', '-t', '30', id]);
    expect(waitExit(id)).toBe(0);
    expect(stop.ms).toBeLessThan(10_000);
  });
});
