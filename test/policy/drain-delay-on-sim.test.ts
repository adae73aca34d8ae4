/**
 * --drain-delay on the simulated kernel, on virtual time: the first SIGTERM is held
 * exactly the delay while the child keeps running; a second SIGTERM, SIGINT or SIGQUIT
 * forwards it at once; other signals pass; the child's exit ends the delay. The
 * real-kernel versions are in test/linux/drain-delay.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseCompatArgs } from '../../src/compat/index.js';
import { parseArgs } from '../../src/config.js';
import type { Config } from '../../src/config-defaults.js';
import { Init } from '../../src/init.js';
import { createLogger } from '../../src/logger.js';
import { SimKernel, type SimKernelOptions, type Step } from '../../src/kernel/sim/index.js';
import type { SignalName } from '../../src/signals.js';

async function runConfig(
  config: Config,
  programs: Record<string, Step[]>,
  options: SimKernelOptions & { signals?: Array<[number, SignalName]> } = {},
): Promise<{ sim: SimKernel; code: number; logs: Array<Record<string, unknown>> }> {
  const sim = new SimKernel({ programs, ...options });
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({ verbosity: 2, format: 'json', pid: sim.self().pid, write: (l) => logs.push(JSON.parse(l)) });
  const init = new Init(sim, config, logger, { env: [], reportError: () => {} });
  for (const [time, signal] of options.signals ?? []) sim.at(time, () => sim.signal('pidone', signal));
  const code = await init.run();
  return { sim, code, logs };
}

function run(flags: readonly string[], programs: Record<string, Step[]>, options: Parameters<typeof runConfig>[2] = {}) {
  const parsed = parseArgs([...flags], {});
  if (parsed.kind !== 'run') throw new Error('flags must describe a run');
  return runConfig(parsed.config, programs, options);
}

/** When each note was written, in order. */
const notes = (sim: SimKernel, text: string) => sim.trace.find('note', { text }).map((e) => e.time);
/** When the process named `name` was sent `signal`. */
function signalsTo(sim: SimKernel, name: string, signal: SignalName): number[] {
  const pids = new Set([
    ...sim.trace.find('fork', { name }).map((e) => e.pid),
    ...sim.trace.find('exec', { program: name }).map((e) => e.pid),
  ]);
  return sim.trace.find('signal', { signal }).filter((e) => pids.has(e.pid)).map((e) => e.time);
}

const messages = (logs: Array<Record<string, unknown>>) => logs.map((l) => String(l['msg']));

/** A server: notes that it serves every 100 ms; SIGTERM makes it note it and exit 0. */
const SERVER: Step[] = [
  { on: 'SIGTERM', run: [{ note: 'app got SIGTERM' }, { exit: 0 }] },
  { repeat: 1000, steps: [{ sleep: 100 }, { note: 'serving' }] },
];

describe.each(['pid1', 'subreaper'] as const)('--drain-delay on the simulator, as %s', (mode) => {
  it('holds the first SIGTERM exactly the delay while the child keeps serving, then forwards it', async () => {
    const { sim, code, logs } = await run(['--drain-delay', '2s', '--', 'app'], { app: SERVER }, { mode, signals: [[1050, 'SIGTERM']] });
    expect(code).toBe(0);
    expect(signalsTo(sim, 'app', 'SIGTERM')).toEqual([3050]);
    expect(notes(sim, 'app got SIGTERM')).toEqual([3050]);
    // It served all through the delay: every 100 ms from 1100 to 3000.
    const during = notes(sim, 'serving').filter((t) => t > 1050 && t < 3050);
    expect(during).toEqual(Array.from({ length: 20 }, (_, i) => 1100 + i * 100));
    const held = logs.find((l) => String(l['msg']).startsWith('drain delay: forwarding SIGTERM to the child in 2s'));
    expect(held).toMatchObject({ level: 'info', signal: 'SIGTERM', delay: '2s' });
    expect(logs.find((l) => l['msg'] === 'drain delay over: forwarding SIGTERM')).toMatchObject({ heldFor: '2s' });
  });

  it('a second SIGTERM during the delay forwards the held one at once, and only one reaches the child', async () => {
    const { sim, code, logs } = await run(['--drain-delay', '30s', '--', 'app'], { app: SERVER }, {
      mode,
      signals: [
        [1000, 'SIGTERM'],
        [1700, 'SIGTERM'],
      ],
    });
    expect(code).toBe(0);
    expect(signalsTo(sim, 'app', 'SIGTERM')).toEqual([1700]);
    expect(sim.now()).toBe(1700);
    expect(logs.find((l) => l['msg'] === 'SIGTERM during the drain delay: forwarding SIGTERM now')).toMatchObject({ heldFor: '700ms' });
  });

  it.each(['SIGINT', 'SIGQUIT'] as const)('%s during the delay forwards the held SIGTERM at once, then itself', async (signal) => {
    const { sim, code } = await run(['--drain-delay', '30s', '--', 'app'], {
      app: [
        { on: 'SIGTERM', run: [{ note: 'app got SIGTERM' }] },
        { on: signal, run: [{ note: `app got ${signal}` }, { exit: 0 }] },
        { pause: true },
      ],
    }, { mode, signals: [[1000, 'SIGTERM'], [1400, signal]] });
    expect(code).toBe(0);
    expect(signalsTo(sim, 'app', 'SIGTERM')).toEqual([1400]);
    expect(signalsTo(sim, 'app', signal)).toEqual([1400]);
    const order = sim.trace.events.filter((e) => e.event === 'signal' && (e.details['signal'] === 'SIGTERM' || e.details['signal'] === signal));
    expect(order.map((e) => e.details['signal']).filter((s) => s !== undefined).slice(-2)).toEqual(['SIGTERM', signal]);
  });

  it('other signals pass through at once during the delay; the SIGTERM stays held', async () => {
    const passing: SignalName[] = ['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];
    const { sim, code } = await run(['--drain-delay', '2s', '--', 'app'], {
      app: [...passing.map((s): Step => ({ on: s, run: [{ note: `app got ${s}` }] })), ...SERVER],
    }, { mode, signals: [[1000, 'SIGTERM'], ...passing.map((s, i): [number, SignalName] => [1200 + i * 100, s])] });
    expect(code).toBe(0);
    passing.forEach((s, i) => expect(notes(sim, `app got ${s}`)).toEqual([1200 + i * 100]));
    expect(signalsTo(sim, 'app', 'SIGTERM')).toEqual([3000]);
  });

  it('the child exiting during the delay ends it: pidone exits with the child\'s code then, no SIGTERM sent', async () => {
    const { sim, code, logs } = await run(['--drain-delay', '10s', '--', 'app'], {
      app: [{ on: 'SIGTERM', run: [{ note: 'app got SIGTERM' }] }, { sleep: 1500 }, { exit: 4 }],
    }, { mode, signals: [[1000, 'SIGTERM']] });
    expect(code).toBe(4);
    expect(sim.now()).toBe(1500);
    expect(signalsTo(sim, 'app', 'SIGTERM')).toEqual([]);
    expect(messages(logs)).toContain('the child exited during the drain delay: the delay ends');
    expect(messages(logs)).not.toContain('drain delay over: forwarding SIGTERM');
  });

  it('with --remaining wait, what is left of the child\'s group gets the held SIGTERM when the child exits', async () => {
    const { sim, code } = await run(['--remaining', 'wait', '--drain-delay', '10s', '--', 'app'], {
      app: [{ fork: 'helper' }, { sleep: 1500 }, { exit: 4 }],
      helper: [{ on: 'SIGTERM', run: [{ note: 'helper got SIGTERM' }, { exit: 0 }] }, { pause: true }],
    }, { mode, signals: [[1000, 'SIGTERM']] });
    expect(code).toBe(4);
    expect(notes(sim, 'helper got SIGTERM')).toEqual([1500]);
    expect(sim.now()).toBe(1500);
  });

  it('with --remaining kill, what is left gets one SIGTERM (the drain\'s), not two', async () => {
    const { sim, code } = await run(['--grace', '5s', '--drain-delay', '10s', '--', 'app'], {
      app: [{ fork: 'helper' }, { sleep: 1500 }, { exit: 4 }],
      helper: [{ on: 'SIGTERM', run: [{ note: 'helper got SIGTERM' }] }, { pause: true }],
    }, { mode, signals: [[1000, 'SIGTERM']] });
    expect(code).toBe(4);
    expect(signalsTo(sim, 'helper', 'SIGTERM')).toEqual([1500]);
    // The helper ignores it in effect (records and carries on): killed after the grace period.
    expect(signalsTo(sim, 'helper', 'SIGKILL')).toEqual([6500]);
  });

  it.each([[[]], [['--drain-delay', '0']]])('no delay (%j) forwards SIGTERM at once, as without the option', async (flags) => {
    const { sim, code, logs } = await run([...flags, '--', 'app'], { app: SERVER }, { mode, signals: [[1000, 'SIGTERM']] });
    expect(code).toBe(0);
    expect(signalsTo(sim, 'app', 'SIGTERM')).toEqual([1000]);
    expect(messages(logs).filter((m) => m.includes('drain delay'))).toEqual([]);
  });

  it('a SIGTERM after the delay is over is forwarded as usual', async () => {
    const { sim } = await run(['--drain-delay', '1s', '--', 'app'], {
      app: [{ on: 'SIGTERM', run: [{ note: 'app got SIGTERM' }] }, { on: 'SIGINT', do: 'exit', code: 0 }, { pause: true }],
    }, { mode, signals: [[1000, 'SIGTERM'], [2500, 'SIGTERM'], [4000, 'SIGINT']] });
    expect(notes(sim, 'app got SIGTERM')).toEqual([2000, 2500]);
  });

  it('--rewrite applies to the held signal: TERM:INT holds and then forwards SIGINT', async () => {
    const { sim, code } = await run(['--rewrite', 'TERM:INT', '--drain-delay', '2s', '--', 'app'], {
      app: [{ on: 'SIGINT', run: [{ note: 'app got SIGINT' }, { exit: 0 }] }, { pause: true }],
    }, { mode, signals: [[1000, 'SIGTERM']] });
    expect(code).toBe(0);
    expect(notes(sim, 'app got SIGINT')).toEqual([3000]);
    expect(signalsTo(sim, 'app', 'SIGTERM')).toEqual([]);
  });

  it('in tini compat mode, PIDONE_DRAIN_DELAY sets the delay', async () => {
    const parsed = parseCompatArgs('tini', ['--', 'app'], { PIDONE_DRAIN_DELAY: '1500ms' }, '0.19.0');
    if (parsed.kind !== 'run') throw new Error('must describe a run');
    expect(parsed.config.drainDelayMs).toBe(1500);
    const { sim, code } = await runConfig(parsed.config, { app: SERVER }, { mode, signals: [[1000, 'SIGTERM']] });
    expect(code).toBe(0);
    expect(signalsTo(sim, 'app', 'SIGTERM')).toEqual([2500]);
  });
});
