/**
 * struct sigpending: the signals sent to a process and not yet delivered.
 *
 * signal(7), "Queueing and delivery semantics for standard signals": "If multiple
 * instances of a standard signal are delivered while that signal is currently
 * blocked, then only one instance is queued." Real-time signals queue: each instance
 * is delivered. Delivery order follows the kernel's next_signal(): lowest number first
 * (the synchronous signals first among the standard ones is irrelevant here: the sim
 * never raises faults).
 */
import type { ReceivedSignal } from '../kernel.js';
import { isRealTime, signalNumber, type SignalName } from '../../signals.js';

interface Entry {
  count: number;
  fromSelf: number;
}

export class PendingSignals {
  private readonly entries = new Map<SignalName, Entry>();

  /** sigaddset / the rt queue. Returns false when a standard signal was already pending (coalesced). */
  add(signal: SignalName, fromSelf: boolean): boolean {
    const entry = this.entries.get(signal);
    if (entry !== undefined && !isRealTime(signal)) return false;
    const e = entry ?? { count: 0, fromSelf: 0 };
    e.count++;
    if (fromSelf) e.fromSelf++;
    this.entries.set(signal, e);
    return true;
  }

  has(signal: SignalName): boolean {
    return this.entries.has(signal);
  }

  /** Drop every instance (prepare_signal flushing SIGCONT or the stop signals). */
  remove(signal: SignalName): void {
    this.entries.delete(signal);
  }

  get size(): number {
    return this.entries.size;
  }

  /** dequeue_signal(): one instance of the lowest-numbered pending signal. */
  takeNext(filter: (s: SignalName) => boolean = () => true): SignalName | null {
    const next = this.sorted().find(filter);
    if (next === undefined) return null;
    const e = this.entries.get(next)!;
    e.count--;
    if (e.fromSelf > e.count) e.fromSelf = e.count;
    if (e.count === 0) this.entries.delete(next);
    return next;
  }

  /** Everything, as one batch for pidone's handler, lowest number first. */
  takeAll(): ReceivedSignal[] {
    const batch = this.sorted().map((signal) => {
      const e = this.entries.get(signal)!;
      return { signal, count: e.count, fromSelf: e.fromSelf };
    });
    this.entries.clear();
    return batch;
  }

  clear(): void {
    this.entries.clear();
  }

  private sorted(): SignalName[] {
    return [...this.entries.keys()].sort((a, b) => signalNumber(a) - signalNumber(b));
  }
}
