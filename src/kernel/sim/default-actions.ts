/**
 * What the simulated kernel does with a signal a process has left at SIG_DFL: each
 * signal's default action, as signal(7) lists it ("Standard signals") and as the
 * kernel's sig_kernel_*() masks in include/linux/signal.h encode it.
 */
import type { SignalName, StandardSignalName } from '../../signals.js';

/** Default action of each signal (signal(7)): what happens to a process with SIG_DFL. */
export type DefaultAction = 'term' | 'core' | 'stop' | 'cont' | 'ignore';

/** Every standard signal's, so that a signal added to src/signals.ts without one is a compile error. */
const STANDARD_DEFAULT_ACTIONS: Record<StandardSignalName, DefaultAction> = {
  SIGHUP: 'term',
  SIGINT: 'term',
  SIGQUIT: 'core',
  SIGILL: 'core',
  SIGTRAP: 'core',
  SIGABRT: 'core',
  SIGBUS: 'core',
  SIGFPE: 'core',
  SIGKILL: 'term',
  SIGUSR1: 'term',
  SIGSEGV: 'core',
  SIGUSR2: 'term',
  SIGPIPE: 'term',
  SIGALRM: 'term',
  SIGTERM: 'term',
  SIGSTKFLT: 'term',
  SIGCHLD: 'ignore',
  SIGCONT: 'cont',
  SIGSTOP: 'stop',
  SIGTSTP: 'stop',
  SIGTTIN: 'stop',
  SIGTTOU: 'stop',
  SIGURG: 'ignore',
  SIGXCPU: 'core',
  SIGXFSZ: 'core',
  SIGVTALRM: 'term',
  SIGPROF: 'term',
  SIGWINCH: 'ignore',
  SIGIO: 'term',
  SIGPWR: 'term',
  SIGSYS: 'core',
};

/** Real-time signals (and glibc's 32 and 33) are absent: they fall to 'term'. */
const DEFAULT_ACTIONS: Partial<Record<SignalName, DefaultAction>> = STANDARD_DEFAULT_ACTIONS;

export function defaultAction(signal: SignalName): DefaultAction {
  // Real-time signals terminate by default (signal(7), "Real-time signals").
  return DEFAULT_ACTIONS[signal] ?? 'term';
}
