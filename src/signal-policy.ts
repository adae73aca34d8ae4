/**
 * pidone's rules about signals as sets and tables, shared by the policy (src/init.ts),
 * the start-up (src/boot.ts) and both kernels, which install a handler for each caught
 * signal: which signals pidone catches, and how a rewrite table (--rewrite) turns a
 * received signal into the one forwarded.
 */
import { allSignalNumbers, GLIBC_RESERVED, signalName, type SignalName } from './signals.js';

/**
 * Signals pidone never installs a handler for: SIGKILL and SIGSTOP, which cannot be
 * caught (signal(7)).
 *
 * glibc's reserved 32 and 33 are caught too, though glibc's sigaction() refuses them:
 * the addon installs them with the rt_sigaction system call (native/signals.cc says
 * why that is safe for pidone).
 *
 * The fault signals SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP and SIGSYS are caught:
 * sent ones are forwarded, and the addon's handler tells a real fault of pidone's own
 * (si_code > 0) from a sent one and lets the former kill pidone, chaining to the
 * handler Node had installed before (V8's WebAssembly traps use SIGSEGV); see
 * native/signals.cc.
 */
export const NEVER_CAUGHT: ReadonlySet<SignalName> = new Set<SignalName>(['SIGKILL', 'SIGSTOP']);

/** The signals pidone catches: every one of 1-64 except NEVER_CAUGHT. */
export function caughtSignals(): SignalName[] {
  return [...allSignalNumbers(), ...GLIBC_RESERVED]
    .sort((a, b) => a - b)
    .map((n) => signalName(n))
    .filter((name) => !NEVER_CAUGHT.has(name));
}

/**
 * A rewrite table (--rewrite FROM:TO): the signal to forward instead, or null to drop
 * it. Signals not in the table are forwarded as they are.
 */
export type RewriteTable = ReadonlyMap<SignalName, SignalName | null>;

export function rewriteSignal(table: RewriteTable, signal: SignalName): SignalName | null {
  return table.has(signal) ? table.get(signal)! : signal;
}
