/**
 * The scheduling model: a virtual clock, no real timers, the same inputs give the
 * same trace; and a smoke test that the model can host an init loop on its own.
 */
import { describe, expect, it, vi } from 'vitest';
import type { WaitStatus } from '../../src/kernel/kernel.js';
import { eventToJson, SimKernel } from '../../src/kernel/sim/index.js';
import { spawnReq } from './helpers.js';

const programs = {
  app: [{ on: 'SIGTERM', run: [{ sleep: 2000 }, { exit: 0 }] }, { repeat: 3, steps: [{ doubleFork: 'daemon' }] }, { pause: true }],
  daemon: [{ sleep: 500 }, { thread: [{ pause: true }] }, { pause: true }],
} as const;

/** A test-local init: forward to the child's group, reap on SIGCHLD, kill what remains after the child. */
function tinyInit(sim: SimKernel): Promise<{ code: number; orphans: number }> {
  return new Promise((resolve) => {
    const child = sim.spawn(spawnReq('app'));
    let main: WaitStatus | null = null;
    let orphans = 0;
    sim.onSignal((batch) => {
      for (const { signal } of batch) if (signal !== 'SIGCHLD') sim.kill(-child.pgid, signal);
      const { statuses, noChildren } = sim.reap();
      for (const s of statuses) {
        if (s.pid === child.pid) {
          main = s;
          try {
            sim.kill(-1, 'SIGKILL');
          } catch {
            // ESRCH: nothing else left.
          }
        } else orphans++;
      }
      if (main !== null && noChildren) {
        sim.close();
        resolve({ code: main.kind === 'exited' ? main.code : 128, orphans });
      }
    });
  });
}

describe('scheduler', () => {
  it('hosts an init loop in automatic mode; virtual time moves by itself and arms no real timer', async () => {
    const sim = new SimKernel({ programs: programs as never });
    sim.at(1000, () => sim.signal('pidone', 'SIGTERM'));
    // Three virtual seconds pass without a real one: the simulator never waits on a
    // Node timer (the runner's own timers were taken before the test started).
    const timeouts = vi.spyOn(globalThis, 'setTimeout');
    const intervals = vi.spyOn(globalThis, 'setInterval');
    let result: Awaited<ReturnType<typeof tinyInit>>;
    let realTimers: number;
    try {
      result = await tinyInit(sim);
    } finally {
      // Counted before the restore, which forgets the calls.
      realTimers = timeouts.mock.calls.length + intervals.mock.calls.length;
      timeouts.mockRestore();
      intervals.mockRestore();
    }
    expect(result).toEqual({ code: 0, orphans: 3 });
    expect(sim.now()).toBe(3000); // SIGTERM at 1 s, the handler sleeps 2 s
    expect(realTimers).toBe(0);
    expect(sim.ps().map((p) => p.name)).toEqual(['init', 'runtime', 'pidone']);
  });

  it('setTimer runs on the virtual clock: a 5 s timer fires at now() == 5000', async () => {
    const sim = new SimKernel();
    const fired = await new Promise<number>((resolve) => sim.setTimer(5000, () => resolve(sim.now())));
    expect(fired).toBe(5000);
    sim.close();
  });

  it('a cancelled timer never fires; idle() resolves when nothing is left to do', async () => {
    const sim = new SimKernel();
    let fired = false;
    sim.setTimer(100, () => (fired = true)).cancel();
    await sim.idle();
    expect(fired).toBe(false);
    expect(sim.now()).toBe(0);
  });

  it('the same inputs give the same trace', () => {
    const run = (): string[] => {
      const sim = new SimKernel({ autoRun: false, programs: programs as never });
      sim.onSignal(() => sim.reap());
      const child = sim.spawn(spawnReq('app'));
      sim.advance(700);
      sim.kill(-child.pgid, 'SIGTERM');
      sim.advance(3000);
      sim.kill(-1, 'SIGKILL');
      sim.runUntilIdle();
      return sim.events.map(eventToJson);
    };
    const a = run();
    expect(a.length).toBeGreaterThan(50);
    expect(run()).toEqual(a);
  });

  it('manual mode: advance() fires timers in order and stops at the target time', () => {
    const sim = new SimKernel({ autoRun: false });
    const seen: number[] = [];
    sim.setTimer(30, () => seen.push(sim.now()));
    sim.setTimer(10, () => seen.push(sim.now()));
    sim.setTimer(10, () => seen.push(-sim.now()));
    sim.advance(20);
    expect(seen).toEqual([10, -10]);
    expect(sim.now()).toBe(20);
    sim.runUntilIdle();
    expect(seen).toEqual([10, -10, 30]);
  });
});
