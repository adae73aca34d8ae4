/**
 * pidone's real init policy (src/init.ts) on the simulated kernel: reaping orphans,
 * forwarding to the group or the child alone, exit codes, --rewrite, PID 1 versus
 * subreaper. Automatic scheduling: virtual time moves by itself, no test sleeps.
 */
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/config.js';
import { Init } from '../../src/init.js';
import { createLogger } from '../../src/logger.js';
import { SimKernel, type SimKernelOptions, type Step } from '../../src/kernel/sim/index.js';

async function runInit(
  flags: readonly string[],
  programs: Record<string, Step[]>,
  options: SimKernelOptions & { before?: (sim: SimKernel) => void } = {},
): Promise<{ sim: SimKernel; code: number; errors: string[] }> {
  const parsed = parseArgs([...flags]);
  if (parsed.kind !== 'run') throw new Error('flags must describe a run');
  const sim = new SimKernel({ programs, ...options });
  options.before?.(sim);
  const logger = createLogger({ verbosity: 0, format: 'json', pid: sim.self().pid, write: () => {} });
  const errors: string[] = [];
  const init = new Init(sim, parsed.config, logger, { env: [], reportError: (line) => errors.push(line) });
  const code = await init.run();
  return { sim, code, errors };
}

const signalsTo = (sim: SimKernel, name: string, signal: string): number[] =>
  sim.trace.find('signal', { signal }).filter((e) => sim.trace.events.some((f) => f.event === 'fork' && f.pid === e.pid && f.details['name'] === name)).map((e) => e.pid);

describe('Init on SimKernel', () => {
  it('reaps 200 double-forked orphans as PID 1 and exits with the child\'s code', async () => {
    const { sim, code } = await runInit(['--', 'app'], {
      app: [{ repeat: 200, steps: [{ doubleFork: 'worker' }] }, { sleep: 1000 }, { exit: 7 }],
      worker: [{ sleep: 500 }, { exit: 0 }],
    });
    expect(code).toBe(7);
    const pidone = sim.pidonePid;
    const orphansReaped = sim.trace.find('reaped', { by: pidone }).length;
    expect(orphansReaped).toBe(201); // 200 workers + the app
    expect(sim.trace.find('reparented', { to: pidone })).toHaveLength(200);
    expect(sim.ps().filter((p) => p.name === 'worker' || p.name === 'app')).toEqual([]);
    expect(sim.now()).toBe(1000);
  });

  it('forwards SIGTERM to the child\'s whole process group by default: the grandchild gets it once', async () => {
    const { sim, code } = await runInit(
      ['--', 'app'],
      {
        app: [{ on: 'SIGTERM', run: [{ wait: -1 }, { exit: 0 }] }, { fork: 'helper' }, { pause: true }],
        helper: [{ on: 'SIGTERM', do: 'exit', code: 0 }, { pause: true }],
      },
      { before: (sim) => sim.at(100, () => sim.signal('pidone', 'SIGTERM')) },
    );
    expect(code).toBe(0);
    expect(signalsTo(sim, 'helper', 'SIGTERM')).toHaveLength(1);
    expect(signalsTo(sim, 'app', 'SIGTERM')).toHaveLength(1);
  });

  it('--single-child forwards to the child alone (through its pidfd); the rest is dealt with after it exits', async () => {
    const { sim, code } = await runInit(
      ['--single-child', '--grace', '2s', '--', 'app'],
      {
        app: [{ on: 'SIGTERM', do: 'exit', code: 0 }, { fork: 'helper' }, { pause: true }],
        helper: [{ on: 'SIGTERM', run: [{ note: 'helper got SIGTERM' }, { exit: 0 }] }, { pause: true }],
      },
      { before: (sim) => sim.at(100, () => sim.signal('pidone', 'SIGTERM')) },
    );
    expect(code).toBe(0);
    // The helper was not signalled by the forward; it got SIGTERM later, once, from the shutdown of what remains.
    const helperTerm = sim.trace.find('note', { text: 'helper got SIGTERM' });
    expect(helperTerm).toHaveLength(1);
    const appExit = sim.trace.find('exit', { name: 'app' })[0]!;
    expect(helperTerm[0]!.seq).toBeGreaterThan(appExit.seq);
  });

  it('exit code: the child\'s code, or 128+n when signal n killed it', async () => {
    expect((await runInit(['--', 'app'], { app: [{ exit: 42 }] })).code).toBe(42);
    const killed = await runInit(['--', 'app'], { app: [{ pause: true }] }, {
      before: (sim) => sim.at(50, () => sim.signal('app', 'SIGKILL')),
    });
    expect(killed.code).toBe(137);
    const termed = await runInit(['--', 'app'], { app: [{ pause: true }] }, {
      before: (sim) => sim.at(50, () => sim.signal('pidone', 'SIGTERM')),
    });
    expect(termed.code).toBe(143);
  });

  it('an unknown command exits 127 with a shell-like message; a non-executable one 126', async () => {
    const missing = await runInit(['--', 'nope'], {});
    expect(missing.code).toBe(127);
    expect(missing.errors).toEqual(["pidone: cannot run 'nope': No such file or directory"]);
    const sim = new SimKernel();
    sim.defineProgram('noexec', { steps: [], execError: 'EACCES' });
    const parsed = parseArgs(['--', 'noexec']);
    if (parsed.kind !== 'run') throw new Error('bad flags');
    const init = new Init(sim, parsed.config, createLogger({ verbosity: 0, format: 'json', pid: 1, write: () => {} }), { env: [], reportError: () => {} });
    expect(await init.run()).toBe(126);
  });

  it('--rewrite: SIGTERM is forwarded as SIGINT', async () => {
    const { sim, code } = await runInit(
      ['--rewrite', 'TERM:INT', '--', 'app'],
      { app: [{ on: 'SIGINT', do: 'exit', code: 0 }, { on: 'SIGTERM', do: 'exit', code: 99 }, { pause: true }] },
      { before: (sim) => sim.at(10, () => sim.signal('pidone', 'SIGTERM')) },
    );
    expect(code).toBe(0);
    expect(signalsTo(sim, 'app', 'SIGINT')).toHaveLength(1);
    expect(signalsTo(sim, 'app', 'SIGTERM')).toHaveLength(0);
  });

  it('as PID 1, what remains after the child is SIGTERMed, then SIGKILLed after the grace period, on virtual time', async () => {
    const { sim, code } = await runInit(['--grace', '5s', '--', 'app'], {
      app: [{ doubleFork: 'stubborn' }, { sleep: 100 }, { exit: 0 }],
      stubborn: [{ ignore: 'SIGTERM' }, { pause: true }],
    });
    expect(code).toBe(0);
    const kill = sim.trace.find('signal', { signal: 'SIGKILL' })[0]!;
    expect(kill.time).toBe(5100);
    expect(sim.ps().map((p) => p.name)).toEqual(['init', 'runtime', 'pidone']);
  });

  it('as a subreaper (pid 1000 on a host), orphans come back to pidone and a sentinel outside its subtree is never signalled', async () => {
    let sentinel = 0;
    const { sim, code } = await runInit(
      ['--grace', '1s', '--', 'app'],
      { app: [{ doubleFork: 'daemon' }, { sleep: 300 }, { exit: 3 }], daemon: [{ pause: true }], sentinel: [{ pause: true }] },
      { mode: 'subreaper', hostPid: 1000, before: (s) => (sentinel = s.spawnProcess({ program: 'sentinel' })) },
    );
    expect(code).toBe(3);
    expect(sim.self().pid).toBe(1000);
    expect(sim.isChildSubreaper()).toBe(true);
    expect(sim.trace.find('reparented', { to: 1000 })).toHaveLength(1);
    expect(sim.trace.find('signal', {}, sentinel)).toEqual([]);
    expect(sim.process(sentinel)!.state).toBe('running');
    expect(sim.ps().some((p) => p.name === 'daemon')).toBe(false);
  });
});
