/**
 * The one way the tests build pidone's real policy (src/init.ts) on the simulated
 * kernel: the flags parsed as pidone's command line, a SimKernel with the given
 * programs, an Init whose logs and user-facing error lines are kept for the test.
 * Automatic scheduling: virtual time moves by itself, no test sleeps.
 */
import { parseArgs } from '../../src/config.js';
import { Init, type InitOptions } from '../../src/init.js';
import { createLogger } from '../../src/logger.js';
import { SimKernel, type SimKernelOptions } from '../../src/kernel/sim/index.js';

export interface InitOnSimOptions extends SimKernelOptions {
  /** Runs once the Init exists and before it starts: schedule events, add processes. */
  readonly before?: (sim: SimKernel, init: Init) => void;
  /** pidone's parent as it saw it at the very start (--pdeathsig's race check); 'actual': the parent it has. */
  readonly initialPpid?: number | 'actual';
  /** A compat mode's report of a command that cannot be executed. */
  readonly execFailure?: InitOptions['execFailure'];
}

export interface InitOnSim {
  readonly sim: SimKernel;
  /** pidone's exit code. */
  readonly code: number;
  /** Every log line, parsed, down to debug level. */
  readonly logs: Array<Record<string, unknown>>;
  /** The user-facing error lines (exec failure, set-up failure). */
  readonly errors: string[];
}

/**
 * Run pidone with these flags (ending with `-- command...`) on a new SimKernel that
 * knows these programs, until pidone exits.
 */
export async function runInitOnSim(
  flags: readonly string[],
  programs: NonNullable<SimKernelOptions['programs']>,
  options: InitOnSimOptions = {},
): Promise<InitOnSim> {
  const parsed = parseArgs([...flags]);
  if (parsed.kind !== 'run') throw new Error(`flags must describe a run: ${flags.join(' ')}`);
  const { before, initialPpid, execFailure, ...kernelOptions } = options;
  const sim = new SimKernel({ programs, ...kernelOptions });
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({ verbosity: 2, format: 'json', pid: sim.self().pid, write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) });
  const errors: string[] = [];
  const init = new Init(sim, parsed.config, logger, {
    env: [],
    reportError: (line) => errors.push(line),
    ...(initialPpid !== undefined ? { initialPpid: initialPpid === 'actual' ? sim.self().ppid : initialPpid } : {}),
    ...(execFailure !== undefined ? { execFailure } : {}),
  });
  before?.(sim, init);
  const code = await init.run();
  return { sim, code, logs, errors };
}
