/**
 * The comparer: the first step where the simulator's record differs from the real
 * kernel's, printed with both sides. The simulator is the one that is wrong.
 */
import { play, type Observation, type StepRecord } from './player.js';
import type { Side } from './protocol.js';
import { formatScript, type Scenario, type Step } from './script.js';

export interface Divergence {
  /** Index into the records: 0 is "begin", n is the scenario's step n. */
  readonly index: number;
  readonly field: keyof StepRecord | 'error' | 'length';
  readonly linux: StepRecord | undefined;
  readonly sim: StepRecord | undefined;
}

const FIELDS: ReadonlyArray<keyof StepRecord> = ['result', 'late', 'hello', 'caught', 'ps'];

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The first difference between two records, or null when they agree. */
export function firstDivergence(linux: Observation, sim: Observation): Divergence | null {
  const n = Math.max(linux.steps.length, sim.steps.length);
  for (let i = 0; i < n; i++) {
    const l = linux.steps[i];
    const s = sim.steps[i];
    if (l === undefined || s === undefined) return { index: i, field: 'length', linux: l, sim: s };
    for (const f of FIELDS) if (!same(l[f], s[f])) return { index: i, field: f, linux: l, sim: s };
  }
  if (linux.error !== sim.error) return { index: n - 1, field: 'error', linux: linux.steps[n - 1], sim: sim.steps[n - 1] };
  return null;
}

function formatRecord(r: StepRecord | undefined, indent: string): string {
  if (r === undefined) return `${indent}(no record)`;
  const lines = [`${indent}result: ${r.result}`];
  if (r.late.length) lines.push(`${indent}late:   ${r.late.join('; ')}`);
  if (r.hello.length) lines.push(`${indent}hello:  ${r.hello.join('; ')}`);
  if (r.caught.length) lines.push(`${indent}caught: ${r.caught.join(', ')}`);
  lines.push(`${indent}ps:`);
  for (const p of r.ps) lines.push(`${indent}  ${p}`);
  return lines.join('\n');
}

/** A divergence as a reader wants it: the script up to the step, then both sides. */
export function formatDivergence(steps: readonly Step[], d: Divergence, linux: Observation, sim: Observation): string {
  const out: string[] = [];
  out.push(`first divergence at ${d.index === 0 ? 'begin' : `step ${d.index}`} (${d.field}):`);
  steps.forEach((s, i) => {
    if (i + 1 <= d.index) out.push(`${i + 1 === d.index ? '>>' : '  '} ${String(i + 1).padStart(2)}  ${s.line}`);
  });
  out.push('  linux:');
  out.push(formatRecord(d.linux, '    '));
  out.push('  sim:');
  out.push(formatRecord(d.sim, '    '));
  if (linux.error) out.push(`  linux error: ${linux.error}`);
  if (sim.error) out.push(`  sim error: ${sim.error}`);
  return out.join('\n');
}

export interface CheckResult {
  readonly linux: Observation;
  readonly sim: Observation;
  /** null when both records agree. */
  readonly divergence: string | null;
}

/** Play `steps` on both sides and compare. */
export async function check(steps: readonly Step[], linuxSide: Side, simSide: Side): Promise<CheckResult> {
  const linux = await play(linuxSide, steps);
  const sim = await play(simSide, steps);
  const d = firstDivergence(linux, sim);
  return { linux, sim, divergence: d === null ? null : formatDivergence(steps, d, linux, sim) };
}

/** A whole record as text (for docs and debugging). */
export function formatObservation(steps: readonly Step[], o: Observation): string {
  const out: string[] = [`${o.side}:`];
  o.steps.forEach((r, i) => {
    out.push(`${String(i).padStart(3)}  ${i === 0 ? 'begin' : steps[i - 1]!.line}`);
    out.push(formatRecord(r, '       '));
  });
  if (o.error) out.push(`error: ${o.error}`);
  return out.join('\n');
}

export function describeScenario(s: Scenario): string {
  return `${s.id} (${s.rule})\n${formatScript(s.steps)}`;
}
