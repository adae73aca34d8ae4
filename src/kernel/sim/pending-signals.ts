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

/**
 * si_code values of the siginfo a handler with SA_SIGINFO gets (siginfo.h): SI_USER
 * from kill(2) (and SEND_SIG_NOINFO), SI_TKILL from tgkill(2), SI_KERNEL for a signal
 * the kernel makes (SEND_SIG_PRIV), and the CLD_* codes of do_notify_parent and
 * do_notify_parent_cldstop.
 */
export const SI_CODES = {
  SI_USER: 0,
  SI_KERNEL: 0x80,
  SI_TKILL: -6,
  CLD_EXITED: 1,
  CLD_KILLED: 2,
  CLD_DUMPED: 3,
  CLD_STOPPED: 5,
  CLD_CONTINUED: 6,
} as const;

export type SiCode = keyof typeof SI_CODES;

/**
 * The siginfo that travels with one queued instance: si_code, si_pid (the sender, or
 * the child for SIGCHLD, as a number in the receiver's namespace: 0 when it has none
 * there) and si_status (SIGCHLD only: the exit code, the signal that killed, stopped
 * or continued the child).
 */
export interface SigInfo {
  readonly code: SiCode;
  readonly pid: number;
  readonly status?: number;
}

interface Entry {
  count: number;
  fromSelf: number;
  /**
   * The siginfo of each queued instance. A standard signal keeps only the first:
   * legacy_queue() drops a second one while the first is pending, siginfo and all.
   */
  infos: SigInfo[];
}

export class PendingSignals {
  private readonly entries = new Map<SignalName, Entry>();

  /** sigaddset / the rt queue. Returns false when a standard signal was already pending (coalesced). */
  add(signal: SignalName, fromSelf: boolean, info?: SigInfo): boolean {
    const entry = this.entries.get(signal);
    if (entry !== undefined && !isRealTime(signal)) return false;
    const e = entry ?? { count: 0, fromSelf: 0, infos: [] };
    e.count++;
    if (fromSelf) e.fromSelf++;
    if (info !== undefined) e.infos.push(info);
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
    return this.takeNextWithInfo(filter)?.signal ?? null;
  }

  /** dequeue_signal() with the instance's siginfo (collect_signal: the oldest queued one). */
  takeNextWithInfo(filter: (s: SignalName) => boolean = () => true): { signal: SignalName; info: SigInfo | null } | null {
    const next = this.sorted().find(filter);
    if (next === undefined) return null;
    const e = this.entries.get(next)!;
    const info = e.infos.shift() ?? null;
    e.count--;
    if (e.fromSelf > e.count) e.fromSelf = e.count;
    if (e.count === 0) this.entries.delete(next);
    return { signal: next, info };
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
