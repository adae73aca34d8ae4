/**
 * The virtual clock. Time moves only when the scheduler moves it (to the next timer
 * deadline), never with the wall clock: a 5 s grace period costs no real time and the
 * same inputs always fire the same timers in the same order.
 */
import { simAssert } from './sim-bug.js';

export interface ClockTimer {
  /** Virtual milliseconds at which it fires. */
  readonly at: number;
  /** Tie-break: timers due at the same time fire in the order they were set. */
  readonly seq: number;
  readonly fire: () => void;
  cancelled: boolean;
}

export class VirtualClock {
  private current = 0;
  private seq = 0;
  /** Sorted by (at, seq). */
  private readonly timers: ClockTimer[] = [];

  now(): number {
    return this.current;
  }

  /** A timer `ms` from now (negative or NaN counts as 0, like setTimeout). */
  after(ms: number, fire: () => void): ClockTimer {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    return this.at(this.current + delay, fire);
  }

  at(time: number, fire: () => void): ClockTimer {
    simAssert(time >= this.current, `timer set in the past (${time} < ${this.current})`);
    const timer: ClockTimer = { at: time, seq: this.seq++, fire, cancelled: false };
    // Binary search for the first timer that fires strictly later.
    let lo = 0;
    let hi = this.timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const t = this.timers[mid]!;
      if (t.at < timer.at || (t.at === timer.at && t.seq < timer.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.timers.splice(lo, 0, timer);
    return timer;
  }

  cancel(timer: ClockTimer): void {
    timer.cancelled = true;
  }

  /** The earliest live deadline, or null when no timer is pending. */
  nextDeadline(): number | null {
    this.dropCancelled();
    return this.timers[0]?.at ?? null;
  }

  /**
   * Move to the earliest timer due no later than `limit`, remove it and return it
   * (the caller fires it, so that it can run the world in between). Null when none.
   */
  popDue(limit = Infinity): ClockTimer | null {
    this.dropCancelled();
    const first = this.timers[0];
    if (first === undefined || first.at > limit) return null;
    this.timers.shift();
    this.current = first.at;
    return first;
  }

  /** Move forward without firing anything (the caller made sure nothing is due before). */
  moveTo(time: number): void {
    simAssert(time >= this.current, `clock moved backwards (${time} < ${this.current})`);
    const next = this.nextDeadline();
    simAssert(next === null || next >= time, `clock skipped a timer due at ${next}`);
    this.current = time;
  }

  pending(): number {
    this.dropCancelled();
    return this.timers.filter((t) => !t.cancelled).length;
  }

  private dropCancelled(): void {
    while (this.timers[0]?.cancelled) this.timers.shift();
  }
}
