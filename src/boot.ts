/**
 * The first code pidone runs. It loads only what is needed to own every catchable
 * signal (the addon and the signal table), installs the handlers, and only then loads
 * the rest. Until the handlers are in, Node's defaults apply: SIGUSR1 would open the
 * inspector on 127.0.0.1:9229, and SIGTERM, re-raised by Node, would be dropped by the
 * kernel for a PID 1 (NODE-PID1-NOTES.md).
 */
import { LinuxKernel } from './kernel/linux/linux-kernel.js';
import { loadAddon } from './kernel/linux/loader.js';

/** What the launcher (bin/pidone) did before pidone's code ran, for the debug log. */
export interface LaunchInfo {
  /** V8's code cache for dist/pidone.cjs: used, rejected by V8 (another Node), or none for this build. */
  readonly codeCache?: 'used' | 'rejected' | 'none';
}

export async function boot(argv: readonly string[], launch: LaunchInfo = {}): Promise<never> {
  // Read before anything else: --pdeathsig compares it with getppid() later.
  const initialPpid = process.ppid;
  let kernel: LinuxKernel | Error;
  try {
    kernel = new LinuxKernel(loadAddon(), {
      launcherFds: process.env['PIDONE_LAUNCHER_FDS'],
      preforked: process.env['PIDONE_PREFORKED'],
    });
  } catch (error) {
    kernel = error instanceof Error ? error : new Error(String(error));
  }
  const { main } = await import('./main.js');
  return main(argv, kernel, initialPpid, launch);
}
