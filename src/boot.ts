/**
 * The first code pidone runs. It loads only what is needed to own every catchable
 * signal (the addon, the signal table, and src/startup.ts, which loads the policy and
 * the logger only when asked for the Init), installs the handlers, and only then loads
 * the rest. Until the handlers are in, Node's defaults apply: SIGTERM, re-raised by
 * Node, would be dropped by the kernel for a PID 1; SIGUSR1 would open the inspector
 * if the launcher had not started Node with flags that forbid it (docs/security.md).
 */
import type { LinuxKernel } from './kernel/linux/linux-kernel.js';
import { loadAddon } from './kernel/linux/loader.js';
import { caughtSignals } from './signal-policy.js';
import { signalNumber } from './signals.js';
import { createLinuxKernel } from './startup.js';

/** What the launcher (bin/pidone) did before pidone's code ran, for the debug log. */
export interface LaunchInfo {
  /** V8's code cache for dist/pidone.cjs: used, rejected by V8 (another Node), or none for this build. */
  readonly codeCache?: 'used' | 'rejected' | 'none';
}

/**
 * What the launcher saw before Node started: PIDONE_LAUNCHER, written by the native
 * launcher (native/launcher.c) or by bin/pidone's sh half.
 */
export interface LauncherRecord {
  /** The parent when the launcher started (its first instruction, or dash's $PPID). */
  readonly ppid: number;
  /** RLIMIT_NOFILE's soft limit pidone was started with (null: unlimited or unknown). */
  readonly nofileSoft: number | null;
  /** Signals the launcher caught (trap) before Node ran, in the order they came. */
  readonly signals: readonly number[];
  /**
   * The name pidone was run as, as typed (the native launcher's argv[0]); undefined from
   * the sh half, whose $0 the kernel has already replaced by the script's path.
   */
  readonly argv0?: string;
}

/**
 * PIDONE_LAUNCHER ("pid=P ppid=Q nofile=[N] signals=[a,b,...][ argv0=NAME]"; NAME runs
 * to the end, whatever it holds), trusted only when it
 * was written for this very process (P is our pid): a value inherited from an outer
 * pidone's launcher, through a child's environment, describes another process.
 */
export function parseLauncherRecord(value: string | undefined, selfPid: number): LauncherRecord | null {
  const m = /^pid=(\d+) ppid=(\d+) nofile=(\d*) signals=((?:\d+(?:,\d+)*)?)(?: argv0=([\s\S]*))?$/.exec(value ?? '');
  if (!m || Number(m[1]) !== selfPid) return null;
  return {
    ppid: Number(m[2]),
    nofileSoft: m[3] === '' ? null : Number(m[3]),
    signals: m[4] === '' ? [] : m[4]!.split(',').map(Number),
    ...(m[5] !== undefined ? { argv0: m[5] } : {}),
  };
}

export async function boot(argv: readonly string[], launch: LaunchInfo = {}): Promise<never> {
  const record = parseLauncherRecord(process.env['PIDONE_LAUNCHER'], process.pid);
  // --pdeathsig compares this with getppid() once PR_SET_PDEATHSIG is set. The
  // launcher read it at its first instruction; Node's start-up (tens of ms) comes after.
  const initialPpid = record?.ppid ?? process.ppid;
  // The name pidone was run as, where src/main.ts reads it (the script's path under the
  // sh half): the compat modes choose by it and print it, as tini and dumb-init print
  // their argv[0] (docs/compat.md).
  if (record?.argv0 !== undefined) process.argv[1] = record.argv0;
  let kernel: LinuxKernel | Error;
  try {
    kernel = createLinuxKernel({ preforked: process.env['PIDONE_PREFORKED'] });
    const addon = loadAddon();
    // Node blocks SIGUSR1 in all its threads as it starts, and unblocks it only for its
    // inspector, which the launcher's flags turn off: caught, it must be unblocked too.
    // A SIGUSR1 that came meanwhile was held pending and is handled now.
    addon.unblockSignals(caughtSignals().map((name) => signalNumber(name)));
    if (record !== null) {
      // Node raises its soft limit to the hard one as it starts (and the launcher may
      // have raised it before): every child gets the one pidone was started with.
      if (record.nofileSoft !== null) addon.setChildNofileLimit(record.nofileSoft);
      // Signals that came while the launcher ran: the handlers are in now, so raising
      // them again hands them to the init, which forwards them once the child runs.
      for (const signal of record.signals) process.kill(process.pid, signal);
    }
  } catch (error) {
    kernel = error instanceof Error ? error : new Error(String(error));
  }
  const { main } = await import('./main.js');
  return main(argv, kernel, initialPpid, launch);
}
