/**
 * PID 1 must not fall over: faults, hostile input and the security properties, on the
 * real kernel. The heavy storms are in test/stress (npm run test:stress).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixture, PIDONE, ROOT } from '../helpers/paths.js';
import { describeWithNamespaces } from '../helpers/privilege.js';
import { childrenOf, eachTestCleanup, MODES, poll, stateOf } from '../helpers/run-pidone.js';

const { start, tempDir, cleanups } = eachTestCleanup('pidone-hardening-');

const STACK_TRACE = /^\s+at .+\(.*:\d+:\d+\)$/m;

for (const mode of MODES) {
  describeWithNamespaces(`faults, as ${mode === 'pid1' ? 'PID 1' : 'a subreaper'}`, () => {
    it('a child that ignores SIGTERM keeps running, and its own exit code is pidone\'s', async () => {
      const dir = tempDir();
      const run = start(mode, ['--', 'sh', '-c', `trap '' TERM; touch ${dir}/up; sleep 1; exit 4`]);
      const pidone = await run.hostPid();
      await poll(() => (existsSync(join(dir, 'up')) ? true : undefined), 20_000, 'the child');
      process.kill(pidone, 'SIGTERM');
      expect((await run.exited).code).toBe(4);
    });

    it('a child that stopped itself still gets to act on SIGTERM (pidone continues it): 143', async () => {
      const run = start(mode, ['-vv', '--', 'sh', '-c', 'kill -STOP $$; exit 0']);
      const pidone = await run.hostPid();
      const child = await poll(() => childrenOf(pidone)[0], 20_000, 'the child');
      await poll(() => (stateOf(child) === 'T' ? true : undefined), 20_000, 'the child to stop');
      process.kill(pidone, 'SIGTERM');
      expect((await run.exited).code).toBe(143);
      expect(run.logs().map((l) => l['msg'])).toContain('the child is stopped: continuing it so it can act');
    });

    it('a child that exits before pidone has finished starting: its code, every time', async () => {
      for (let i = 0; i < 10; i++) {
        const run = start(mode, ['--', 'sh', '-c', `exit ${i + 1}`]);
        expect((await run.exited).code).toBe(i + 1);
      }
    });

    it('an uncaught exception in pidone: logged, the child shut down gracefully, exit 125', async () => {
      const dir = tempDir();
      const run = start(mode, ['--', 'sh', '-c', `trap 'echo TERM > ${dir}/term; exit 0' TERM; while :; do sleep 0.05; done`], {
        PIDONE_FAULT: 'uncaught-exception',
      });
      expect((await run.exited).code).toBe(125);
      expect(readFileSync(join(dir, 'term'), 'utf8')).toBe('TERM\n');
      const fatal = run.logs().find((l) => l['level'] === 'fatal');
      expect(fatal?.['msg']).toBe('uncaught exception in pidone; shutting down');
    });

    it('an unhandled promise rejection in pidone: the same', async () => {
      const run = start(mode, ['--grace', '500ms', '--', 'sh', '-c', `trap '' TERM; while :; do sleep 0.05; done`], {
        PIDONE_FAULT: 'unhandled-rejection',
      });
      expect((await run.exited).code).toBe(125);
      expect(run.logs().some((l) => l['msg'] === 'unhandled promise rejection in pidone; shutting down')).toBe(true);
    });

    it('a NODE_OPTIONS meant for the app reaches the child unchanged and does not touch pidone', async () => {
      const dir = tempDir();
      const tracer = join(dir, 'tracer.cjs');
      writeFileSync(tracer, `require('fs').writeFileSync(${JSON.stringify(join(dir, 'loaded'))}, String(process.pid));\n`);
      const options = `--require ${tracer} --max-old-space-size=64 --inspect=127.0.0.1:9339`;
      const run = start(mode, ['--', 'sh', '-c', 'printf "%s\\n" "$NODE_OPTIONS"'], { NODE_OPTIONS: options });
      expect((await run.exited).code).toBe(0);
      expect(run.stdout).toBe(`${options}\n`);
      // pidone did not load the tracer, nor open the inspector port.
      expect(existsSync(join(dir, 'loaded'))).toBe(false);
      expect(run.stderr).not.toContain('Debugger listening');
    });
  });
}

describeWithNamespaces('security, as a subreaper', () => {
  it('never calls kill(-1), never changes uid, gid or capabilities (strace), and a sentinel survives', async () => {
    const dir = tempDir();
    const sentinel = spawn('sleep', ['1000.4242'], { stdio: 'ignore' });
    cleanups.push(() => sentinel.kill('SIGKILL'));
    const trace = join(dir, 'trace');
    const r = spawnSync(
      'strace',
      [
        '-f', '-qq', '-o', trace,
        '-e', 'trace=kill,setuid,setgid,setreuid,setregid,setresuid,setresgid,setgroups,capset,setfsuid,setfsgid',
        PIDONE, '--grace', '300ms', '--', 'sh', '-c', 'setsid sh -c "trap \\"\\" TERM; sleep 30" & sleep 0.3; exit 0',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(r.status).toBe(0);
    const text = readFileSync(trace, 'utf8');
    // The first line of the trace is pidone's own pid (strace -f prefixes every line).
    const pidonePid = Number(/^(\d+)/.exec(text)![1]);
    const ofPidone = text.split('\n').filter((l) => l.startsWith(`${pidonePid} `));
    expect(ofPidone.some((l) => /kill\(-1,/.test(l))).toBe(false);
    expect(ofPidone.some((l) => /set(re|res|fs)?[ug]id|setgroups|capset/.test(l))).toBe(false);
    expect(sentinel.exitCode).toBeNull();
    expect(() => process.kill(sentinel.pid!, 0)).not.toThrow();
  });
});

describeWithNamespaces('fork failure', () => {
  it('a pids limit that leaves no room for the child: a clear error, exit 1, nothing left behind', () => {
    const cgroup = '/sys/fs/cgroup/pids';
    expect(existsSync(join(cgroup, 'cgroup.procs'))).toBe(true);
    const group = join(cgroup, `pidone-test-${process.pid}`);
    mkdirSync(group);
    cleanups.push(() => rmSync(group, { recursive: true, force: true }));
    writeFileSync(join(group, 'pids.max'), '1000');
    const inGroup = (args: string) =>
      spawnSync('sh', ['-c', `echo $$ > ${group}/cgroup.procs && exec ${PIDONE} ${args}`], { encoding: 'utf8', timeout: 30_000 });
    // How many tasks (threads count) pidone has when it spawns: the child reads its parent's.
    const probe = inGroup(`-- sh -c 'sed -n "s/^Threads:[[:space:]]*//p" /proc/$PPID/status'`);
    const threads = Number(probe.stdout.trim());
    expect(threads).toBeGreaterThan(1);
    // Room for pidone's own threads, none for a child.
    writeFileSync(join(group, 'pids.max'), String(threads));
    const dir = tempDir();
    const r = inGroup(`-- touch ${dir}/ran`);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("pidone: cannot start 'touch': fork: Resource temporarily unavailable\n");
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    expect(readFileSync(join(group, 'pids.current'), 'utf8').trim()).toBe('0');
  });
});

describe('bad input never spawns and never shows a stack trace', () => {
  it('refuses to run pidone as its own child, unless --allow-nested', () => {
    const dir = tempDir();
    const r = spawnSync(PIDONE, [PIDONE, '--', 'touch', join(dir, 'ran')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^pidone: refusing to run pidone as its own child .*--allow-nested.*\n$/);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    const nested = spawnSync(PIDONE, ['--allow-nested', '--', PIDONE, '--', 'touch', join(dir, 'ran')], { encoding: 'utf8' });
    expect(nested.status).toBe(0);
    expect(existsSync(join(dir, 'ran'))).toBe(true);
  });

  it('no native addon: a clear error naming the paths and the fixes, and --help still works', () => {
    const dir = tempDir();
    // The package without its build output.
    for (const part of ['bin', 'dist', 'package.json']) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    const r = spawnSync(join(dir, 'bin', 'pidone'), ['--', 'touch', join(dir, 'ran')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('cannot load the native addon');
    expect(r.stderr).toContain(join(dir, 'build', 'Release', 'pidone.node'));
    expect(r.stderr).toContain("npm rebuild pidone");
    expect(r.stderr).not.toMatch(STACK_TRACE);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    const help = spawnSync(join(dir, 'bin', 'pidone'), ['--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: pidone');
  });

  it('fuzzed command lines: the command runs, or exit 2 with one line and nothing run', () => {
    const dir = tempDir();
    const booleanFlag = fc.constantFrom('--single-child', '--setsid', '-s', '--no-subreaper', '--warn-on-reap', '-v', '-vv', '--bogus', '-x', '--no-grace');
    const valueFlag = fc.constantFrom('--rewrite', '--remap-exit', '--grace', '--log-format', '--remaining', '--pdeathsig', '--grace=', '--rewrite=');
    const value = fc.oneof(
      fc.constantFrom('TERM:INT', '15:0', 'FOO:BAR', 'TERM', '2s', '500ms', '5x', '-1s', 'json', 'pretty', 'xml', 'kill', 'wait', 'nuke', '143', '300', 'RTMIN+1:USR1', '0', ''),
      fc.string({ maxLength: 8 }),
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.string({ minLength: 2000, maxLength: 4000 }),
    );
    const option = fc.oneof(
      booleanFlag.map((f) => [f]),
      fc.tuple(valueFlag, value).map(([f, v]) => (f.endsWith('=') ? [`${f}${v}`] : [f, v])),
    );
    let n = 0;
    fc.assert(
      fc.property(fc.array(option, { maxLength: 5 }), (options) => {
        const args = options.flat();
        const marker = join(dir, `ran-${n++}`);
        // `pidone OPTIONS -- touch MARKER`: touch runs only if pidone accepted OPTIONS.
        const r = spawnSync(PIDONE, [...args, '--', 'touch', marker], { encoding: 'utf8', timeout: 20_000 });
        expect(r.stderr).not.toMatch(STACK_TRACE);
        if (existsSync(marker)) return; // accepted: the exit code is the child's (maybe remapped)
        expect(r.status).toBe(2);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr.startsWith('pidone: ')).toBe(true);
      }),
      // Each run starts Node: keep the count modest; the parser itself is fuzzed far
      // harder in-process (test/unit/config-fuzz.test.ts).
      { numRuns: 60, seed: 42 },
    );
  });
});
