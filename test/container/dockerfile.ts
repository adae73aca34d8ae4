/**
 * A small Dockerfile reader for the tests: instructions with continuation lines
 * joined and comments dropped, split into stages.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/paths.js';

export const DOCKERFILE = join(ROOT, 'Dockerfile');

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
  /** `# hadolint ignore=DL3008,...` on the line above. */
  readonly ignores: readonly string[];
}

export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

export interface ParsedDockerfile {
  /** ARGs before the first FROM (usable in FROM lines). */
  readonly globalArgs: Map<string, string | undefined>;
  readonly stages: Stage[];
}

export function parseDockerfile(text: string = readFileSync(DOCKERFILE, 'utf8')): ParsedDockerfile {
  const lines = text.split('\n');
  const instructions: Instruction[] = [];
  let ignores: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const trimmed = raw.trim();
    if (trimmed === '') continue;
    if (trimmed.startsWith('#')) {
      const m = /^#\s*hadolint\s+ignore=([\w,]+)/.exec(trimmed);
      if (m) ignores = m[1]!.split(',');
      continue;
    }
    const start = i + 1;
    let joined = trimmed;
    while (joined.endsWith('\\') && i + 1 < lines.length) {
      joined = joined.slice(0, -1);
      i++;
      const next = lines[i]!.trim();
      if (next.startsWith('#')) continue;
      joined += ` ${next}`;
    }
    const m = /^(\S+)\s*(.*)$/.exec(joined)!;
    instructions.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.replace(/\s+/g, ' ').trim(), line: start, ignores });
    ignores = [];
  }
  const globalArgs = new Map<string, string | undefined>();
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`Dockerfile:${ins.line}: cannot read FROM ${ins.args}`);
      stages.push({ from: m[1]!, name: m[2], instructions: [] });
      continue;
    }
    if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new Error(`Dockerfile:${ins.line}: ${ins.keyword} before the first FROM`);
      const [name, value] = ins.args.split('=');
      globalArgs.set(name!, value);
      continue;
    }
    stages[stages.length - 1]!.instructions.push(ins);
  }
  return { globalArgs, stages };
}

/** An exec-form (JSON array) ENTRYPOINT/CMD, or null for the shell form. */
export function execForm(ins: Instruction | undefined): string[] | null {
  if (!ins || !ins.args.startsWith('[')) return null;
  const value = JSON.parse(ins.args) as unknown;
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : null;
}

/** The last instruction `keyword` of a stage. */
export function last(stage: Stage, keyword: string): Instruction | undefined {
  return stage.instructions.filter((i) => i.keyword === keyword).pop();
}
