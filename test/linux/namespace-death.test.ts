/**
 * --pid-ns promises that nothing started inside outlives pidone. The inner pidone (PID 1
 * of the namespace) takes the namespace with it when it exits; these tests end the
 * *outer* pidone without its shutdown (SIGKILL, as a CI runner's timeout or the OOM
 * killer would) and check that everything inside is gone too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { PIDONE } from '../helpers/paths.js';
import { describeWithNamespaces, inCiAsRoot } from '../helpers/privilege.js';
import { childrenOf, isRunning, poll } from '../helpers/run-pidone.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pidone-nsdeath-'));
  // Readable and writable by 'nobody' too.
  chmodSync(dir, 0o777);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every descendant of `pid` (host pids), from /proc. */
function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of childrenOf(queue.shift()!)) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** The pids running exactly `sleep <duration>`. */
function sleeps(duration: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return readFileSync(`/proc/${name}/cmdline`, 'latin1') === `sleep\0${duration}\0`;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function quote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** pidone started as `user` ('root': directly; 'nobody': through su, with a user namespace). */
function startAs(user: string, args: string[]): ChildProcess {
  const argv = user === 'nobody' ? ['su', 'nobody', '-s', '/bin/sh', '-c', `exec ${args.map(quote).join(' ')}`] : args;
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  cleanups.push(() => proc.kill('SIGKILL'));
  return proc;
}

describeWithNamespaces('--pid-ns: the namespace dies with the outer pidone, however it dies', () => {
  const users = inCiAsRoot || process.getuid?.() === 0 ? ['root', 'nobody'] : ['self'];
  const cases: Array<{ name: string; extra: string[] }> = [
    { name: 'plain', extra: [] },
    // The outer's own --pdeathsig is the outer's: the inner stays tied to it by SIGKILL,
    // not by a SIGTERM that would give the daemon the (long) grace period.
    { name: 'with --pdeathsig SIGTERM', extra: ['--pdeathsig', 'SIGTERM', '--grace', '60s'] },
  ];
  for (const user of users) {
    for (const { name, extra } of cases) {
      it(`as ${user}, ${name}: SIGKILL to the outer pidone ends every process inside, a daemon that ignores SIGTERM too`, async () => {
        const dir = tempDir();
        // A daemon in a session of its own that ignores SIGTERM (the disposition survives
        // exec), then the main command.
        const script =
          `setsid sh -c 'trap "" TERM; echo $$ > ${dir}/daemon.tmp; mv ${dir}/daemon.tmp ${dir}/daemon; exec sleep 1000' & ` +
          'exec sleep 1000';
        const outer = startAs(user, [PIDONE, '--pid-ns', ...extra, '--', 'sh', '-c', script]);
        let stderr = '';
        outer.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        await poll(() => (existsSync(join(dir, 'daemon')) ? true : undefined), 20_000, 'the daemon to start');
        // Through su the outer pidone is su's child.
        const outerPid = user === 'nobody' ? await poll(() => childrenOf(outer.pid!)[0], 20_000, 'pidone under su') : outer.pid!;
        // The inner pidone, the command and the daemon, once the shell's helpers are gone.
        const inside = await poll(() => {
          const found = descendantsOf(outerPid);
          return found.length === 3 && found.every(isRunning) ? found : undefined;
        }, 20_000, 'the processes inside the namespace');
        cleanups.push(() => {
          for (const pid of inside) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // Gone.
            }
          }
        });

        process.kill(outerPid, 'SIGKILL');
        // Generous: the machine is loaded. Without the tie they run for 1000 s.
        const survivors = await poll(
          () => {
            const alive = inside.filter(isRunning);
            return alive.length === 0 ? [] : undefined;
          },
          20_000,
          `every process inside to end (still running: ${inside.filter(isRunning).join(', ')})`,
        ).catch(() => inside.filter(isRunning));
        expect(survivors, stderr).toEqual([]);
      });
    }
  }

  it('an outer pidone that dies before the inner one could tie itself to it: the inner one starts nothing', async () => {
    // strace holds the cloned child at its PR_SET_PDEATHSIG for 3 s (every prctl is
    // delayed; the outer pidone's PR_SET_CHILD_SUBREAPER too, harmlessly), and the
    // outer pidone is killed in that window: the prctl then comes too late to be
    // signalled, and only the check after it can notice.
    const duration = `1000.${Math.floor(Math.random() * 1e9)}`;
    const strace = spawn(
      'strace',
      ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=prctl', '-e', 'inject=prctl:delay_enter=3000000', PIDONE, '--pid-ns', '--', 'sleep', duration],
      { stdio: 'ignore' },
    );
    cleanups.push(() => {
      strace.kill('SIGKILL');
      for (const pid of sleeps(duration)) process.kill(pid, 'SIGKILL');
    });
    // strace's child once it is Node (strace forks a short-lived helper first).
    const outer = await poll(() => childrenOf(strace.pid!).find((pid) => commOf(pid) === 'node'), 20_000, 'pidone under strace');
    const cloned = await poll(() => childrenOf(outer)[0], 30_000, 'the cloned child');
    cleanups.push(() => {
      try {
        process.kill(cloned, 'SIGKILL');
      } catch {
        // Gone.
      }
    });
    process.kill(outer, 'SIGKILL');
    const ended = await poll(() => (isRunning(cloned) ? undefined : true), 20_000, 'the cloned child to give up').catch(() => false);
    expect(ended, `the cloned child ${cloned} went on without its parent`).toBe(true);
    expect(sleeps(duration)).toEqual([]);
  });
});
