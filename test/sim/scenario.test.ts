/**
 * Scenario files and the pidone-sim CLI: errors name the path inside the file and
 * exit 2; a good file prints a timeline and the final tree, or JSON lines.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from '../../src/kernel/sim/scenario.js';
import { main } from '../../src/sim-cli.js';

function errorOf(doc: unknown): string {
  try {
    parseScenario(doc);
  } catch (e) {
    if (e instanceof ScenarioError) return e.message;
    throw e;
  }
  return 'no error';
}

const base = { command: ['app'], programs: { app: [{ exit: 0 }] } };

async function cli(args: string[], files: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    readFile: (p) => (p in files ? files[p]! : readFileSync(p, 'utf8')),
  });
  return { code, out, err };
}

describe('scenario validation', () => {
  it('names the path of a bad signal, with a suggestion', () => {
    const steps = [{ at: 0, note: 'a' }, { at: 1, note: 'b' }, { at: 2, note: 'c' }, { at: 3, signal: 'SIGFOO' }];
    expect(errorOf({ ...base, steps })).toBe("steps[3].signal: unknown signal 'SIGFOO'");
    expect(errorOf({ ...base, steps: [{ at: 0, signal: 'SIGTREM' }] })).toBe("steps[0].signal: unknown signal 'SIGTREM' (did you mean SIGTERM?)");
  });

  it('names the path inside programs, for unknown programs, bad types and unknown fields', () => {
    expect(errorOf({ ...base, programs: { app: [{ sleep: 1 }, { fork: 'nope' }] } })).toBe("programs.app[1].fork: unknown program 'nope' (defined: app)");
    expect(errorOf({ ...base, programs: { app: [{ on: 'SIGTERM', run: [{ sleep: 'x' }] }] } })).toBe('programs.app[0].run[0].sleep: expected an integer, got string "x"');
    expect(errorOf({ ...base, programs: { app: [{ exit: 0, colour: 'red' }] } })).toMatch(/^programs\.app\[0\]\.colour: unknown field/);
    expect(errorOf({ ...base, programs: { app: [{ jump: 1 }] } })).toMatch(/^programs\.app\[0\]: not a step/);
    expect(errorOf({ programs: {} })).toBe('command: expected an array, got nothing');
    expect(errorOf({ ...base, mode: 'vm' })).toBe("mode: expected 'pid1' or 'subreaper', got string \"vm\"");
    expect(errorOf({ ...base, options: { until: -1 } })).toBe('options.until: expected an integer >= 0, got -1');
  });

  it('accepts every example scenario', () => {
    for (const f of ['orphans', 'graceful-shutdown', 'subreaper']) {
      expect(() => parseScenario(JSON.parse(readFileSync(`examples/scenarios/${f}.json`, 'utf8')))).not.toThrow();
    }
  });
});

describe('pidone-sim', () => {
  it('a bad file exits 2 with the path of the problem', async () => {
    const bad = JSON.stringify({ ...base, steps: [{ at: 0, note: 'x' }, { at: 0, note: 'y' }, { at: 0, note: 'z' }, { at: 5, signal: 'SIGFOO' }] });
    const r = await cli(['bad.json'], { 'bad.json': bad });
    expect(r.code).toBe(2);
    expect(r.err).toBe("pidone-sim: bad.json: steps[3].signal: unknown signal 'SIGFOO'\n");
    expect((await cli(['x.json'], { 'x.json': '{ nope' })).err).toMatch(/^pidone-sim: x\.json: not JSON/);
    expect((await cli(['--frobnicate', 'x.json'])).code).toBe(2);
    const flags = await cli(['f.json'], { 'f.json': JSON.stringify({ ...base, pidone: ['--grace', 'soon'] }) });
    expect(flags.code).toBe(2);
    expect(flags.err).toMatch(/--grace: 'soon' is not a duration/);
  });

  it('prints a timeline, the final tree and pidone\'s exit code', async () => {
    const r = await cli(['examples/scenarios/graceful-shutdown.json']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^timeline/);
    expect(r.out).toMatch(/6\.000s \[ +\d+\] signal +signal=SIGKILL/);
    expect(r.out).toContain('final process tree:\n1 init (running, session leader)\n└─ 2 runtime');
    expect(r.out).toMatch(/pidone exited with code 0\n$/);
  });

  it('--json prints the trace as JSON lines, the same on every run', async () => {
    const a = await cli(['--json', 'examples/scenarios/orphans.json']);
    const b = await cli(['--json', 'examples/scenarios/orphans.json']);
    expect(a.code).toBe(0);
    expect(b.out).toBe(a.out);
    const events = a.out.trimEnd().split('\n').map((l) => JSON.parse(l) as { event: string; by?: number });
    expect(events.filter((e) => e.event === 'reparented')).toHaveLength(200);
    expect(events.filter((e) => e.event === 'log').length).toBeGreaterThan(0); // -v: pidone's info lines
  });

  it('a scenario where pidone cannot finish exits 1 and says why', async () => {
    const stuck = JSON.stringify({ command: ['app'], programs: { app: [{ ignore: 'SIGTERM' }, { pause: true }] }, options: { until: 1000 } });
    const r = await cli(['s.json'], { 's.json': stuck });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/pidone did not finish: pidone is waiting for something that can no longer happen/);
  });
});
