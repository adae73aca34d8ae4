/**
 * pidone/sim: the simulated kernel and what tests and scenario files need with it.
 */
export { SimKernel, type SimKernelOptions, type SimMode, type ProcSelector } from './sim-kernel.js';
export type { Step, ProgramDef, ProgramRef, ProcRef, HandlerAction } from './programs.js';
export type { ProcInfo } from './inspect.js';
export type { ExitStatus, ProcState } from './process.js';
export { Trace, formatEvent, eventToJson, type TraceEvent, type TraceKind, type TraceDetail } from './trace.js';
export { SimBug } from './sim-bug.js';
export { RESERVED_PIDS, PID_MAX_DEFAULT, MAX_PID_NS_LEVEL } from './pid-namespace.js';
