/**
 * From how the main child ended to pidone's exit code, the way a shell reports it
 * (bash(1) "EXIT STATUS"): the child's own code; 128+n when signal n killed it; 127
 * when the command was not found, 126 when it was found but could not be executed;
 * then the --remap-exit table. Every n counts, glibc's reserved 32 and 33 included
 * (160, 161), as bash, tini and dumb-init report them.
 */
import { strerror, type Errno, type WaitStatus } from './kernel/kernel.js';
import { signalNumber } from './signals.js';

/** Exit codes pidone uses for its own failures (docs/usage.md, "Exit codes"). */
export const EXIT_USAGE = 2;
/** pidone could not set itself up (subreaper refused, fork failed, addon missing). */
export const EXIT_SETUP = 1;
/** A bug in pidone: an uncaught exception or rejected promise in the init. */
export const EXIT_INTERNAL = 125;
export const EXIT_NOT_EXECUTABLE = 126;
export const EXIT_NOT_FOUND = 127;

export function exitCodeOf(status: WaitStatus): number {
  return status.kind === 'exited' ? status.code : 128 + signalNumber(status.signal);
}

/** A failed execve: 127 when nothing was found to run, 126 for everything else. */
export function execFailureCode(code: Errno): number {
  return code === 'ENOENT' || code === 'ENOTDIR' ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE;
}

/** How a command that cannot be executed is reported, and the exit code that goes with it. */
export interface ExecFailure {
  readonly exitCode: number;
  /** The line for stderr, without a newline. */
  readonly line: string;
}

/**
 * pidone's own report of a command it cannot execute: `pidone: cannot run 'X':
 * <strerror>`, with execFailureCode's exit code. A compat mode brings its tool's
 * (InitOptions.execFailure; src/compat/index.ts).
 */
export function pidoneExecFailure(file: string, code: Errno): ExecFailure {
  return { exitCode: execFailureCode(code), line: `pidone: cannot run '${file}': ${strerror(code)}` };
}

/** --remap-exit FROM[:TO]: FROM becomes TO (0 when TO is omitted, like tini's -e). */
export type RemapTable = ReadonlyMap<number, number>;

export function remapExitCode(table: RemapTable, code: number): number {
  return table.get(code) ?? code;
}
