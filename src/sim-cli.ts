/**
 * pidone-sim: run a scenario file through pidone's real init (src/init.ts) on the
 * simulated kernel, and print what happened: a timeline and the final process tree,
 * or the trace as JSON lines (--json). See docs/simulator.md for the file format.
 *
 * Exit status: 0 when pidone finished (its own exit code is printed, and is in the
 * trace); 1 when it did not finish (nothing left to happen, or options.until reached);
 * 2 for a usage error or a bad scenario file.
 */
import { readFileSync, writeSync } from 'node:fs';
import { ConfigError, parseArgs } from './config.js';
import { Init } from './init.js';
import { createLogger } from './logger.js';
import { SimKernel } from './kernel/sim/index.js';
import { parseScenario, ScenarioError, type Scenario, type ScenarioEvent } from './kernel/sim/scenario.js';
import { describeExit } from './kernel/sim/process.js';
import { eventToJson, formatEvent } from './kernel/sim/trace.js';

export interface SimCliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly readFile: (path: string) => string;
}

/**
 * Write to fd 1 or 2 synchronously. A reader that went away (`pidone-sim ... | head`)
 * ends the output quietly (EPIPE), and a full non-blocking pipe is retried (EAGAIN).
 */
function writer(fd: number): (text: string) => void {
  let gone = false;
  return (text) => {
    let buf = Buffer.from(text);
    while (!gone && buf.length > 0) {
      try {
        buf = buf.subarray(writeSync(fd, buf));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') continue;
        if (code === 'EPIPE') gone = true;
        else throw error;
      }
    }
  };
}

const defaultIo: SimCliIo = {
  out: writer(1),
  err: writer(2),
  readFile: (path) => readFileSync(path, 'utf8'),
};

const USAGE = 'usage: pidone-sim [--json] SCENARIO.json';

export interface ScenarioRun {
  readonly sim: SimKernel;
  /** pidone's exit code, or null when it did not finish. */
  readonly code: number | null;
  /** Why it did not finish. */
  readonly unfinished: string | null;
}

/** Load and check a scenario file; ScenarioError names the path of the problem. */
export function loadScenario(path: string, read: (p: string) => string = (p) => readFileSync(p, 'utf8')): Scenario {
  let text: string;
  try {
    text = read(path);
  } catch (error) {
    throw new ScenarioError(`${path}: cannot read: ${error instanceof Error ? error.message : String(error)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError(`${path}: not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parseScenario(doc);
}

/** Apply one outside event of the timeline. */
function applyEvent(sim: SimKernel, e: ScenarioEvent): void {
  if ('signal' in e) sim.signal(e.to ?? 'pidone', e.signal, e.from !== undefined ? { from: e.from } : {});
  else if ('exit' in e) sim.exitProcess(e.exit, e.code ?? 0);
  else if ('spawn' in e) sim.spawnProcess({ program: e.spawn, ...(e.parent !== undefined ? { parent: e.parent } : {}), ...(e.newPidNs ? { newPidNs: true } : {}) });
  else sim.trace.record(0, 'note', { text: e.note });
}

/**
 * Run a scenario: build the world, start the real Init on it, play the timeline on the
 * virtual clock, and when pidone returns let its process exit with that code (as
 * bin/pidone does), which as PID 1 takes its namespace down.
 */
export async function runScenario(scenario: Scenario): Promise<ScenarioRun> {
  let config;
  try {
    const parsed = parseArgs([...scenario.pidone, '--', ...scenario.command]);
    if (parsed.kind !== 'run') throw new ScenarioError(`pidone: the flags ask for '${parsed.kind}', not a run`);
    config = parsed.config;
  } catch (error) {
    if (error instanceof ConfigError) throw new ScenarioError(`pidone: ${error.message.replace(/^pidone: /, '')}`);
    throw error;
  }
  const { until } = scenario.options;
  const sim = new SimKernel({
    mode: scenario.mode,
    programs: scenario.programs,
    timeLimit: until,
    ...(scenario.options.pidMax !== undefined ? { pidMax: scenario.options.pidMax } : {}),
    ...(scenario.options.coreDumps !== undefined ? { coreDumps: scenario.options.coreDumps } : {}),
    ...(scenario.options.hostPid !== undefined ? { hostPid: scenario.options.hostPid } : {}),
  });
  const pidonePid = sim.pidonePid;
  const logLine = (line: string): void => {
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      sim.trace.record(pidonePid, 'log', { level: String(o['level']), msg: String(o['msg'] ?? '') });
    } catch {
      sim.trace.record(pidonePid, 'log', { msg: line.trim() });
    }
  };
  const logger = createLogger({ verbosity: config.verbosity, format: 'json', pid: sim.self().pid, write: logLine });
  scenario.steps.forEach((e, i) =>
    sim.at(e.at, () => {
      try {
        applyEvent(sim, e);
      } catch (error) {
        sim.trace.record(0, 'note', { text: `steps[${i}] failed: ${error instanceof Error ? error.message : String(error)}` });
      }
    }),
  );
  const init = new Init(sim, config, logger, { env: [], reportError: (line) => sim.trace.record(pidonePid, 'log', { level: 'error', msg: line }) });
  let code: number | null = null;
  void init.run().then((c) => {
    code = c;
  });
  await sim.idle();
  // Let the init's own resolution land (it closes the kernel just before resolving).
  await new Promise((resolve) => setImmediate(resolve));
  let unfinished: string | null = null;
  if (code !== null) {
    sim.trace.record(pidonePid, 'note', { text: `pidone returned exit code ${code}` });
    if (sim.pidoneStatus === null) sim.exitProcess('pidone', code);
  } else if (sim.pidoneStatus !== null) {
    unfinished = `pidone's process died (${describeExit(sim.pidoneStatus)})`;
  } else if (sim.now() >= until || sim.world.clock.nextDeadline() !== null) {
    unfinished = `stopped at options.until (${until} ms) with pidone still running`;
  } else {
    unfinished = 'pidone is waiting for something that can no longer happen';
  }
  if (unfinished !== null) sim.trace.record(0, 'note', { text: unfinished });
  sim.runUntilIdle(Math.max(until, sim.now()));
  return { sim, code, unfinished };
}

export async function main(argv: readonly string[], io: SimCliIo = defaultIo): Promise<number> {
  const json = argv.includes('--json');
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(`${USAGE}\nRuns pidone's init on the simulated kernel. Scenario format: docs/simulator.md\n`);
    return 0;
  }
  const rest = argv.filter((a) => a !== '--json');
  const unknown = rest.find((a) => a.startsWith('-'));
  if (unknown !== undefined || rest.length !== 1) {
    io.err(`pidone-sim: ${unknown !== undefined ? `unknown option '${unknown}'` : 'expected one scenario file'}\n${USAGE}\n`);
    return 2;
  }
  const path = rest[0]!;
  let run: ScenarioRun;
  try {
    run = await runScenario(loadScenario(path, io.readFile));
  } catch (error) {
    if (error instanceof ScenarioError) {
      io.err(`pidone-sim: ${path}: ${error.message.startsWith(`${path}: `) ? error.message.slice(path.length + 2) : error.message}\n`);
      return 2;
    }
    throw error;
  }
  const { sim, code, unfinished } = run;
  if (json) {
    for (const e of sim.events) io.out(`${eventToJson(e)}\n`);
  } else {
    io.out(`timeline (virtual time, [pid in the root namespace]):\n`);
    for (const e of sim.events) io.out(`${formatEvent(e)}\n`);
    io.out(`\nfinal process tree:\n${sim.tree()}\n\n`);
    io.out(code !== null ? `pidone exited with code ${code}\n` : `pidone did not finish: ${unfinished}\n`);
  }
  return code !== null ? 0 : 1;
}
