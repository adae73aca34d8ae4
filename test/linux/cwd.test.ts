/**
 * Once the child runs, pidone's own working directory is '/', in every mode: an init
 * must not pin the mount it was started in. The child starts where pidone was started.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { PIDONE } from '../helpers/paths.js';
import { describeWithNamespaces } from '../helpers/privilege.js';
import { childrenOf, MODES, PidoneRun, poll, type Mode } from '../helpers/run-pidone.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** For the pidone under unshare, which outlives a killed unshare. */
function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone.
  }
}

function tempDir(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'pidone-cwd-')));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * pidone started in `cwd`, through a relative path to the launcher, running the
 * relative command ./child.sh (which says where it runs, then sleeps).
 */
function startIn(mode: Mode | 'pid-ns', cwd: string, script: string, flags: string[] = []): PidoneRun {
  writeFileSync(join(cwd, 'child.sh'), `#!/bin/sh\n${script}\n`);
  chmodSync(join(cwd, 'child.sh'), 0o755);
  const pidone = [relative(cwd, PIDONE), ...(mode === 'pid-ns' ? ['--pid-ns'] : []), ...flags, '--', './child.sh'];
  const argv = mode === 'pid1' ? ['unshare', '--pid', '--fork', '--mount-proc', ...pidone] : pidone;
  const run = new PidoneRun(spawn(argv[0]!, argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] }), mode === 'pid1' ? 'pid1' : 'subreaper');
  cleanups.push(() => run.kill('SIGKILL'));
  return run;
}

const REPORT_AND_SLEEP = 'pwd -P > ./where.tmp && mv ./where.tmp ./where; exec sleep 1000';

describeWithNamespaces("pidone's working directory", () => {
  for (const mode of [...MODES, 'pid-ns'] as const) {
    it(`${mode === 'pid1' ? 'as PID 1' : mode === 'subreaper' ? 'as a subreaper' : 'with --pid-ns (both pidones)'}: pidone is at /, the child where pidone was started`, async () => {
      const dir = tempDir();
      const run = startIn(mode, dir, REPORT_AND_SLEEP);
      const pidone = await run.hostPid();
    cleanups.push(() => killQuietly(pidone));
      cleanups.push(() => killQuietly(pidone));
      await poll(() => (existsSync(join(dir, 'where')) ? true : undefined), 20_000, 'the child');
      const inits = [pidone];
      if (mode === 'pid-ns') inits.push(await poll(() => childrenOf(pidone)[0], 20_000, 'the inner pidone'));
      const child = await poll(() => childrenOf(inits[inits.length - 1]!)[0], 20_000, 'the child');
      for (const init of inits) {
        await poll(() => (readlinkSync(`/proc/${init}/cwd`) === '/' ? true : undefined), 20_000, `pidone ${init} to be at /`).catch(() => {});
        expect(readlinkSync(`/proc/${init}/cwd`)).toBe('/');
      }
      expect(readlinkSync(`/proc/${child}/cwd`)).toBe(dir);
      expect(readFileSync(join(dir, 'where'), 'utf8')).toBe(`${dir}\n`);
      process.kill(pidone, 'SIGTERM');
      expect((await run.exited).code).toBe(143);
    });
  }

  for (const mode of MODES) {
    it(`${mode === 'pid1' ? 'as PID 1' : 'as a subreaper'}: pidone's first log line, after the move to /, is written (its logger loads from absolute paths)`, async () => {
      const dir = tempDir();
      // An orphan for pidone to reap, logged at warn with --warn-on-reap: the default
      // level logs nothing before that, so the logger is first used there.
      const run = startIn(mode, dir, `(sleep 0.5 &); touch ./up; exec sleep 1000`, ['--warn-on-reap']);
      const pidone = await run.hostPid();
    cleanups.push(() => killQuietly(pidone));
      cleanups.push(() => killQuietly(pidone));
      await poll(() => (existsSync(join(dir, 'up')) ? true : undefined), 20_000, 'the child');
      const line = await poll(() => run.logs().find((l) => l['msg'] === 'reaped orphan'), 20_000, 'the reaped-orphan line');
      expect(line['level']).toBe('warn');
      expect(readlinkSync(`/proc/${pidone}/cwd`)).toBe('/');
      process.kill(pidone, 'SIGTERM');
      expect((await run.exited).code).toBe(143);
    });
  }

  it('the mount pidone was started in can be unmounted while it runs', async () => {
    const dir = tempDir();
    const mnt = join(dir, 'mnt');
    mkdirSync(mnt);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'pidone-cwd-test', mnt], { encoding: 'utf8' });
    expect(mounted.status, mounted.stderr).toBe(0);
    cleanups.push(() => spawnSync('umount', ['-l', mnt]));
    // The child leaves the mount itself; only pidone could still hold it.
    const run = startIn('subreaper', mnt, `touch ${dir}/up; cd /; exec sleep 1000`);
    const pidone = await run.hostPid();
    cleanups.push(() => killQuietly(pidone));
    await poll(() => (existsSync(join(dir, 'up')) ? true : undefined), 20_000, 'the child');
    await poll(() => (readlinkSync(`/proc/${pidone}/cwd`) === '/' ? true : undefined), 20_000, 'pidone to leave').catch(() => {});
    const unmounted = spawnSync('umount', [mnt], { encoding: 'utf8' });
    expect(unmounted.status, unmounted.stderr).toBe(0);
    process.kill(pidone, 'SIGTERM');
    expect((await run.exited).code).toBe(143);
  });
});
