/**
 * Scenario files for pidone-sim (docs/simulator.md): JSON describing the programs,
 * the command pidone runs, pidone's own flags, and a timeline of outside events.
 * parseScenario() checks everything before anything runs, and every problem names
 * its path inside the file ("steps[3].signal: unknown signal 'SIGFOO'").
 */
import { suggestSignal } from '../../config-signal-spelling.js';
import { parseSignal, type SignalName } from '../../signals.js';
import { STEP_KINDS, type ProgramRef, type Step } from './programs.js';

export type ScenarioEvent =
  /** Send a signal (default to pidone, from the root init: outside every namespace, like `docker kill`). */
  | { readonly at: number; readonly signal: SignalName; readonly to?: string | number; readonly from?: string | number }
  /** Make a process call exit_group(code). */
  | { readonly at: number; readonly exit: string | number; readonly code?: number }
  /** Make `parent` (default the root init) fork+exec a program. */
  | { readonly at: number; readonly spawn: string; readonly parent?: string | number; readonly newPidNs?: boolean }
  /** A note in the timeline. */
  | { readonly at: number; readonly note: string };

export interface Scenario {
  readonly description?: string;
  /** 'pid1' (default): pidone is PID 1 of a new namespace; 'subreaper': an ordinary process. */
  readonly mode: 'pid1' | 'subreaper';
  /** pidone's flags, as on its command line (without the command). */
  readonly pidone: readonly string[];
  /** The command pidone runs; command[0] names a program. */
  readonly command: readonly string[];
  readonly programs: Readonly<Record<string, readonly Step[]>>;
  readonly steps: readonly ScenarioEvent[];
  readonly options: {
    readonly pidMax?: number;
    readonly coreDumps?: boolean;
    readonly hostPid?: number;
    /** Stop the clock here (virtual ms, default 600000). */
    readonly until: number;
  };
}

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

type Json = unknown;

function fail(path: string, message: string): never {
  throw new ScenarioError(`${path}: ${message}`);
}

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: Json): string {
  return v === undefined ? 'nothing' : v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

function expectObject(v: Json, path: string): Record<string, Json> {
  if (!isObject(v)) fail(path, `expected an object, got ${describe(v)}`);
  return v;
}

function expectArray(v: Json, path: string): Json[] {
  if (!Array.isArray(v)) fail(path, `expected an array, got ${describe(v)}`);
  return v;
}

function expectString(v: Json, path: string): string {
  if (typeof v !== 'string') fail(path, `expected a string, got ${describe(v)}`);
  return v;
}

function expectInt(v: Json, path: string, min = -Infinity): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(path, `expected an integer, got ${describe(v)}`);
  if (v < min) fail(path, `expected an integer >= ${min}, got ${v}`);
  return v;
}

function expectBool(v: Json, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, `expected true or false, got ${describe(v)}`);
  return v;
}

function expectRef(v: Json, path: string): string | number {
  if (typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v))) return v;
  fail(path, `expected a pid (integer) or a process name (string), got ${describe(v)}`);
}

/** A signal as Linux names it ('SIGTERM', 'SIGRTMIN+1'); 'TERM' and '15' are accepted and normalised. */
function expectSignal(v: Json, path: string): SignalName {
  const text = expectString(v, path);
  const signal = parseSignal(text);
  if (signal === null) {
    // Suggest only a near miss that starts like what was written (SIGTREM -> SIGTERM, not SIGFOO -> SIGIO).
    const hint = suggestSignal(text);
    const stem = (s: string): string => s.toUpperCase().replace(/^SIG/, '').slice(0, 1);
    const near = hint !== null && stem(hint) === stem(text);
    fail(path, `unknown signal '${text}'${near ? ` (did you mean ${hint}?)` : ''}`);
  }
  return signal;
}

/** A signal for kill(2) or tgkill(2): a signal as expectSignal() takes it, or 'SIG0' (only check the target exists). */
function expectKillSignal(v: Json, path: string): SignalName | 'SIG0' {
  return v === 'SIG0' ? v : expectSignal(v, path);
}

function onlyKeys(o: Record<string, Json>, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`${path}.${k}`, `unknown field (expected one of: ${allowed.join(', ')})`);
}

/** Check a program's steps; `programs` is every program name the file defines. */
function parseSteps(v: Json, path: string, programs: ReadonlySet<string>): Step[] {
  return expectArray(v, path).map((s, i) => parseStep(s, `${path}[${i}]`, programs));
}

function parseProgramRef(v: Json, path: string, programs: ReadonlySet<string>): ProgramRef {
  if (typeof v === 'string') {
    if (!programs.has(v)) fail(path, `unknown program '${v}' (defined: ${[...programs].join(', ') || 'none'})`);
    return v;
  }
  return parseSteps(v, path, programs);
}

function parseStep(v: Json, path: string, programs: ReadonlySet<string>): Step {
  const o = expectObject(v, path);
  const kind = STEP_KINDS.find((k) => k in o);
  if (kind === undefined) fail(path, `not a step: expected one of ${STEP_KINDS.join(', ')}`);
  const p = `${path}.${kind}`;
  switch (kind) {
    case 'fork':
      onlyKeys(o, ['fork', 'as', 'exec', 'newPidNs', 'cloneParent', 'setTid'], path);
      return {
        fork: parseProgramRef(o['fork'], p, programs),
        ...(o['as'] !== undefined ? { as: expectString(o['as'], `${path}.as`) } : {}),
        ...(o['exec'] !== undefined ? { exec: expectBool(o['exec'], `${path}.exec`) } : {}),
        ...(o['newPidNs'] !== undefined ? { newPidNs: expectBool(o['newPidNs'], `${path}.newPidNs`) } : {}),
        ...(o['cloneParent'] !== undefined ? { cloneParent: expectBool(o['cloneParent'], `${path}.cloneParent`) } : {}),
        ...(o['setTid'] !== undefined
          ? { setTid: expectArray(o['setTid'], `${path}.setTid`).map((v, i) => expectInt(v, `${path}.setTid[${i}]`)) }
          : {}),
      };
    case 'exit':
      onlyKeys(o, ['exit'], path);
      return { exit: expectInt(o['exit'], p, 0) };
    case 'threadExit':
      onlyKeys(o, ['threadExit'], path);
      return { threadExit: expectInt(o['threadExit'], p, 0) };
    case 'sleep':
      onlyKeys(o, ['sleep'], path);
      return { sleep: expectInt(o['sleep'], p, 0) };
    case 'pause':
      onlyKeys(o, ['pause'], path);
      if (o['pause'] !== true) fail(p, 'expected true');
      return { pause: true };
    case 'on': {
      onlyKeys(o, ['on', 'do', 'code', 'run', 'noCldWait', 'noCldStop', 'restart'], path);
      const action = o['do'];
      if (action !== undefined && action !== 'record' && action !== 'exit' && action !== 'reap') {
        fail(`${path}.do`, `expected 'record', 'exit' or 'reap', got ${describe(action)}`);
      }
      return {
        on: expectSignal(o['on'], p),
        ...(action !== undefined ? { do: action } : {}),
        ...(o['code'] !== undefined ? { code: expectInt(o['code'], `${path}.code`, 0) } : {}),
        ...(o['run'] !== undefined ? { run: parseSteps(o['run'], `${path}.run`, programs) } : {}),
        ...(o['noCldWait'] !== undefined ? { noCldWait: expectBool(o['noCldWait'], `${path}.noCldWait`) } : {}),
        ...(o['restart'] !== undefined ? { restart: expectBool(o['restart'], `${path}.restart`) } : {}),
        ...(o['noCldStop'] !== undefined ? { noCldStop: expectBool(o['noCldStop'], `${path}.noCldStop`) } : {}),
      };
    }
    case 'ignore':
      onlyKeys(o, ['ignore'], path);
      return { ignore: expectSignal(o['ignore'], p) };
    case 'default':
      onlyKeys(o, ['default', 'noCldWait'], path);
      return {
        default: expectSignal(o['default'], p),
        ...(o['noCldWait'] !== undefined ? { noCldWait: expectBool(o['noCldWait'], `${path}.noCldWait`) } : {}),
      };
    case 'setsid':
      onlyKeys(o, ['setsid'], path);
      if (o['setsid'] !== true) fail(p, 'expected true');
      return { setsid: true };
    case 'setpgid': {
      onlyKeys(o, ['setpgid'], path);
      const a = expectObject(o['setpgid'], p);
      onlyKeys(a, ['pid', 'pgid'], p);
      return { setpgid: { pid: expectRef(a['pid'], `${p}.pid`), pgid: expectRef(a['pgid'], `${p}.pgid`) } };
    }
    case 'kill':
      onlyKeys(o, ['kill', 'signal', 'group'], path);
      return {
        kill: expectRef(o['kill'], p),
        signal: expectKillSignal(o['signal'], `${path}.signal`),
        ...(o['group'] !== undefined ? { group: expectBool(o['group'], `${path}.group`) } : {}),
      };
    case 'setns':
      onlyKeys(o, ['setns'], path);
      return { setns: expectRef(o['setns'], p) };
    case 'tgkill': {
      onlyKeys(o, ['tgkill', 'signal'], path);
      const t = expectObject(o['tgkill'], p);
      onlyKeys(t, ['tgid', 'tid'], p);
      return {
        tgkill: { tgid: expectRef(t['tgid'], `${p}.tgid`), tid: expectInt(t['tid'], `${p}.tid`) },
        signal: expectKillSignal(o['signal'], `${path}.signal`),
      };
    }
    case 'wait':
      onlyKeys(o, ['wait', 'nohang', 'group', 'untraced', 'continued', 'idtype', 'exited', 'nowait'], path);
      if (o['idtype'] !== undefined && o['idtype'] !== 'all' && o['idtype'] !== 'pid' && o['idtype'] !== 'pgid') {
        fail(`${path}.idtype`, `expected 'all', 'pid' or 'pgid', got ${describe(o['idtype'])}`);
      }
      return {
        ...(o['idtype'] !== undefined ? { idtype: o['idtype'] as 'all' | 'pid' | 'pgid' } : {}),
        ...(['untraced', 'continued', 'exited', 'nowait'] as const).reduce(
          (acc, k) => (o[k] !== undefined ? { ...acc, [k]: expectBool(o[k], `${path}.${k}`) } : acc),
          {},
        ),
        wait: expectRef(o['wait'], p),
        ...(o['nohang'] !== undefined ? { nohang: expectBool(o['nohang'], `${path}.nohang`) } : {}),
        ...(o['group'] !== undefined ? { group: expectBool(o['group'], `${path}.group`) } : {}),
      };
    case 'thread':
      onlyKeys(o, ['thread'], path);
      return { thread: parseProgramRef(o['thread'], p, programs) };
    case 'unshare':
      onlyKeys(o, ['unshare'], path);
      if (o['unshare'] !== 'pid') fail(p, `only 'pid' is modelled, got ${describe(o['unshare'])}`);
      return { unshare: 'pid' };
    case 'exec': {
      onlyKeys(o, ['exec'], path);
      // exec of an unknown program is allowed: it fails with ENOENT, as on Linux.
      return { exec: expectString(o['exec'], p) };
    }
    case 'subreaper':
      onlyKeys(o, ['subreaper'], path);
      return { subreaper: expectBool(o['subreaper'], p) };
    case 'pdeathsig':
      onlyKeys(o, ['pdeathsig'], path);
      return { pdeathsig: expectSignal(o['pdeathsig'], p) };
    case 'doubleFork':
      onlyKeys(o, ['doubleFork', 'as'], path);
      return {
        doubleFork: parseProgramRef(o['doubleFork'], p, programs),
        ...(o['as'] !== undefined ? { as: expectString(o['as'], `${path}.as`) } : {}),
      };
    case 'repeat':
      onlyKeys(o, ['repeat', 'steps'], path);
      return { repeat: expectInt(o['repeat'], p, 0), steps: parseSteps(o['steps'], `${path}.steps`, programs) };
    case 'report':
      onlyKeys(o, ['report'], path);
      return { report: expectString(o['report'], p) };
    case 'note':
      onlyKeys(o, ['note'], path);
      return { note: expectString(o['note'], p) };
  }
}

function parseEvent(v: Json, path: string, programs: ReadonlySet<string>): ScenarioEvent {
  const o = expectObject(v, path);
  const at = expectInt(o['at'], `${path}.at`, 0);
  if ('signal' in o) {
    onlyKeys(o, ['at', 'signal', 'to', 'from'], path);
    return {
      at,
      signal: expectSignal(o['signal'], `${path}.signal`),
      ...(o['to'] !== undefined ? { to: expectRef(o['to'], `${path}.to`) } : {}),
      ...(o['from'] !== undefined ? { from: expectRef(o['from'], `${path}.from`) } : {}),
    };
  }
  if ('exit' in o) {
    onlyKeys(o, ['at', 'exit', 'code'], path);
    return { at, exit: expectRef(o['exit'], `${path}.exit`), ...(o['code'] !== undefined ? { code: expectInt(o['code'], `${path}.code`, 0) } : {}) };
  }
  if ('spawn' in o) {
    onlyKeys(o, ['at', 'spawn', 'parent', 'newPidNs'], path);
    const program = expectString(o['spawn'], `${path}.spawn`);
    if (!programs.has(program)) fail(`${path}.spawn`, `unknown program '${program}'`);
    return {
      at,
      spawn: program,
      ...(o['parent'] !== undefined ? { parent: expectRef(o['parent'], `${path}.parent`) } : {}),
      ...(o['newPidNs'] !== undefined ? { newPidNs: expectBool(o['newPidNs'], `${path}.newPidNs`) } : {}),
    };
  }
  if ('note' in o) {
    onlyKeys(o, ['at', 'note'], path);
    return { at, note: expectString(o['note'], `${path}.note`) };
  }
  fail(path, 'expected one of: signal, exit, spawn, note (with at)');
}

/** Check a parsed JSON document and return the scenario it describes. */
export function parseScenario(doc: Json): Scenario {
  const o = expectObject(doc, '(top level)');
  onlyKeys(o, ['description', 'mode', 'pidone', 'command', 'programs', 'steps', 'options'], '(top level)');
  const programsObj = expectObject(o['programs'] ?? {}, 'programs');
  const names = new Set(Object.keys(programsObj));
  const programs: Record<string, readonly Step[]> = {};
  for (const [name, steps] of Object.entries(programsObj)) programs[name] = parseSteps(steps, `programs.${name}`, names);
  const command = expectArray(o['command'], 'command').map((c, i) => expectString(c, `command[${i}]`));
  if (command.length === 0) fail('command', 'expected at least the program to run');
  const mode = o['mode'] ?? 'pid1';
  if (mode !== 'pid1' && mode !== 'subreaper') fail('mode', `expected 'pid1' or 'subreaper', got ${describe(mode)}`);
  const pidone = expectArray(o['pidone'] ?? [], 'pidone').map((a, i) => expectString(a, `pidone[${i}]`));
  const steps = expectArray(o['steps'] ?? [], 'steps').map((s, i) => parseEvent(s, `steps[${i}]`, names));
  const opts = expectObject(o['options'] ?? {}, 'options');
  onlyKeys(opts, ['pidMax', 'coreDumps', 'hostPid', 'until'], 'options');
  return {
    ...(o['description'] !== undefined ? { description: expectString(o['description'], 'description') } : {}),
    mode,
    pidone,
    command,
    programs,
    steps,
    options: {
      ...(opts['pidMax'] !== undefined ? { pidMax: expectInt(opts['pidMax'], 'options.pidMax', 2) } : {}),
      ...(opts['coreDumps'] !== undefined ? { coreDumps: expectBool(opts['coreDumps'], 'options.coreDumps') } : {}),
      ...(opts['hostPid'] !== undefined ? { hostPid: expectInt(opts['hostPid'], 'options.hostPid', 2) } : {}),
      until: opts['until'] !== undefined ? expectInt(opts['until'], 'options.until', 0) : 600_000,
    },
  };
}
