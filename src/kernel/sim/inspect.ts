/**
 * Looking at the process table from outside: ps-like rows and a tree, as a test or
 * the pidone-sim CLI wants them. Numbers are root-namespace pids unless named v*.
 */
import { describeExit, type Proc, type ProcState } from './process.js';
import type { PidNamespace } from './pid-namespace.js';
import type { World } from './world.js';

export interface ProcInfo {
  /** pid_nr(): the pid in the root namespace. */
  readonly pid: number;
  /** The pid as the viewer (pidone) sees it; 0 when it cannot see it. */
  readonly vpid: number;
  /** One number per namespace level, root first (struct pid numbers[]). */
  readonly nsPids: readonly number[];
  /** The namespace the process lives in (0 = root) and whether it is that namespace's init. */
  readonly ns: number;
  readonly nsInit: boolean;
  readonly ppid: number;
  readonly pgid: number;
  readonly sid: number;
  readonly name: string;
  readonly state: ProcState;
  /** Root-namespace tids of the live threads (the leader first while it lives). */
  readonly threads: readonly number[];
  readonly subreaper: boolean;
  /** 'exit 3', 'SIGTERM' for a zombie; null while it lives. */
  readonly status: string | null;
}

export function procInfo(p: Proc, viewer: PidNamespace): ProcInfo {
  return {
    pid: p.tgid.nr(),
    vpid: p.tgid.nrNs(viewer),
    nsPids: p.tgid.numbers.map((u) => u.nr),
    ns: p.ns.id,
    nsInit: p.ns.childReaper === p,
    ppid: p.parent?.tgid.nr() ?? 0,
    pgid: p.pgrp.nr(),
    sid: p.session.nr(),
    name: p.name,
    state: p.state,
    threads: p.threads.map((t) => t.pid.nr()),
    subreaper: p.isChildSubreaper,
    status: p.status && p.state === 'zombie' ? describeExit(p.status) : null,
  };
}

/** Every process in the task list, in creation order. */
export function processTable(world: World, viewer: PidNamespace): ProcInfo[] {
  return [...world.procs].map((p) => procInfo(p, viewer));
}

function label(p: Proc): string {
  const nsNote = p.ns.level > 0 ? ` [ns${p.ns.id} pid ${p.tgid.nrNs(p.ns)}]` : '';
  const flags: string[] = [p.state === 'zombie' && p.status ? `zombie: ${describeExit(p.status)}` : p.state];
  if (p.isChildSubreaper) flags.push('subreaper');
  if (p.threads.length > 1) flags.push(`${p.threads.length} threads`);
  if (p.sessionLeader) flags.push('session leader');
  else if (p.pgrp === p.tgid) flags.push('group leader');
  return `${p.tgid.nr()}${nsNote} ${p.name} (${flags.join(', ')})`;
}

/** The process tree, like `ps --forest` / pstree -p. */
export function formatTree(world: World): string {
  const lines: string[] = [];
  const roots = [...world.procs].filter((p) => p.parent === null || !world.procs.has(p.parent));
  const walk = (p: Proc, prefix: string, last: boolean, top: boolean): void => {
    lines.push(top ? label(p) : `${prefix}${last ? '└─ ' : '├─ '}${label(p)}`);
    const next = top ? '' : `${prefix}${last ? '   ' : '│  '}`;
    p.children.forEach((c, i) => walk(c, next, i === p.children.length - 1, false));
  };
  for (const r of roots) walk(r, '', true, true);
  return lines.join('\n');
}
