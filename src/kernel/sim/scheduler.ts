/**
 * The scheduler: who runs when, on the virtual clock.
 *
 * A turn runs, at the current virtual time, all pending kernel work and every
 * runnable scripted thread until each blocks (FIFO in wake order), then gives pidone
 * one activation: its pending signals as one batch to the onSignal handler, else one
 * due timer callback. When a turn finds nothing to do, the clock jumps to the next
 * timer deadline and fires it. Nothing depends on the wall clock, so the same inputs
 * give the same trace.
 *
 * Two ways to drive it:
 * - automatic (SimKernel's default): a turn runs in a setImmediate callback whenever
 *   something may have changed, so pidone's code (which awaits its own promises
 *   between activations) interleaves with the world, and an init's Promise resolves
 *   with no real waiting: a 5 s grace period is one clock jump.
 * - manual: a test calls run() / advance(ms) / runUntilIdle() and everything,
 *   including pidone's handler, happens synchronously inside that call.
 */
import { runThread } from './interpreter.js';
import { SimBug } from './sim-bug.js';
import type { World } from './world.js';

/** Work items in one run of the world before it is declared a livelock. */
const SETTLE_LIMIT = 10_000_000;

export class Scheduler {
  constructor(
    private readonly world: World,
    /** One activation of the external process (pidone); returns whether it did anything. */
    private readonly activateCaller: () => boolean,
  ) {}

  /** Run kernel work and runnable threads until none is left at the current time. */
  runReady(): boolean {
    const w = this.world;
    let did = false;
    let n = 0;
    while (w.kernelWork.length > 0 || w.runQueue.length > 0) {
      if (++n > SETTLE_LIMIT) throw new SimBug('the world does not settle (livelock)');
      did = true;
      const work = w.kernelWork.shift();
      if (work !== undefined) {
        work();
        continue;
      }
      const thread = w.runQueue.shift()!;
      thread.queued = false;
      runThread(w, thread);
    }
    return did;
  }

  /** One turn; false when there was nothing to do at this time. */
  turn(): boolean {
    const ran = this.runReady();
    const activated = this.activateCaller();
    return ran || activated;
  }

  /** Turns until nothing is left to do at the current time. */
  run(): void {
    let n = 0;
    while (this.turn()) if (++n > SETTLE_LIMIT) throw new SimBug('pidone and the world never settle');
  }

  /** Fire the next timer due by `limit` (moving the clock there); false when none. */
  fireNext(limit = Infinity): boolean {
    const timer = this.world.clock.popDue(limit);
    if (timer === null) return false;
    timer.fire();
    return true;
  }

  /** Run, then let `ms` of virtual time pass, running after each timer. */
  advance(ms: number): void {
    const target = this.world.clock.now() + ms;
    this.run();
    while (this.fireNext(target)) this.run();
    this.world.clock.moveTo(target);
  }

  /** Run and fire timers until no timer is left (or the clock would pass `limit`). */
  runUntilIdle(limit = Infinity): void {
    this.run();
    while (this.fireNext(limit)) this.run();
  }
}
