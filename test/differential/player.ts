/**
 * Plays a scenario on one side (the real kernel or the simulator) and returns the
 * observation record: for every step, what the actor's call returned, what other
 * actors finished meanwhile, which new actors said hello, which signals handlers
 * caught, and the process table afterwards. Pids inside replies and hellos are the
 * numbers the actor sees (deterministic in a fresh namespace); the table uses logical
 * names, so records from both kernels compare line by line.
 *
 * The same code plays both sides; each side's own answers drive the bookkeeping
 * (which namespace an actor is in, what number one actor uses for another), so a
 * divergence shows up as a difference in the record, never as a crash of the player.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isRealTime, signalName } from '../../src/signals.js';
import type { RawAnswer, RawHello, RawProc, RawReply, Side } from './protocol.js';
import { OP, signalArg, type OpName, type Ref, type Step } from './script.js';

export interface StepRecord {
  /** The step as written ("begin" for the start). */
  readonly line: string;
  /** What the call returned: 'ok', 'pid 3', 'ESRCH', 'pid 3 exit 2', 'pending' (blocked or stopped), 'none' (no reply: it died), 'skipped: ...'. */
  readonly result: string;
  /** Replies from earlier steps that finished during this one (a blocking wait, a stopped actor continued). */
  readonly late: readonly string[];
  /** New actors: 'p3: pid=3 tid=3 ppid=2 pgid=1 sid=1 nspid=3'. */
  readonly hello: readonly string[];
  /** Signals that ran a handler: 'p2 SIGUSR1' (standard signals once per step: coalescing inside one step is a race). */
  readonly caught: readonly string[];
  /** The process table: 'p2 S parent=p1 pgrp=p2 sid=p1 threads=t1'. */
  readonly ps: readonly string[];
}

export interface Observation {
  readonly side: string;
  readonly steps: readonly StepRecord[];
  /** The side failed (did not settle, died). */
  readonly error?: string;
}

interface Actor {
  readonly name: string;
  readonly idx: number;
  readonly thread: boolean;
  nspid: readonly number[];
  nstid: readonly number[];
  /** Namespace ids from the scenario's first namespace down to the actor's own. */
  readonly nsPath: readonly string[];
  /** The namespace its children go to after unshare (pid_ns_for_children), once one was seen. */
  childNs: string | null;
  /** A step it has not answered yet (blocked in wait, or stopped in the middle of it). */
  busy: { readonly seq: number; readonly op: OpName } | null;
}

interface Creation {
  readonly name: string;
  readonly thread: boolean;
  readonly creator: Actor | null;
  readonly newns: boolean;
}

interface ProcView {
  /**
   * S running, T stopped, L leader exited while other threads live, Z zombie, E a
   * namespace init that has exited and waits for its namespace to empty (zombies of
   * parents outside it).
   */
  readonly state: 'S' | 'T' | 'L' | 'Z' | 'E';
  readonly liveTids: ReadonlySet<number>;
}

const MAX_ACTORS = 48;

let pidMax: number | undefined;

/**
 * pid_max inside a fresh PID namespace, where the scenarios run. Since Linux 6.14
 * pid_max is per namespace and a new one starts at PID_MAX_LIMIT (4194304), whatever
 * the host's /proc/sys/kernel/pid_max says; before that it is the host's. Asked of the
 * kernel once; the simulator is given the same.
 */
export function namespacePidMax(): number {
  if (pidMax !== undefined) return pidMax;
  const r = spawnSync('unshare', ['--pid', '--fork', 'cat', '/proc/sys/kernel/pid_max'], { encoding: 'utf8' });
  const inside = Number(r.stdout?.trim());
  pidMax = r.status === 0 && Number.isInteger(inside) && inside > 0 ? inside : Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim());
  return pidMax;
}

function statusText(word: number): string {
  if (word === 0xffff) return 'continued';
  if ((word & 0xff) === 0x7f) return `stopped ${signalName((word >> 8) & 0xff)}`;
  const sig = word & 0x7f;
  if (sig === 0) return `exit ${(word >> 8) & 0xff}`;
  return `${signalName(sig)}${word & 0x80 ? ' core' : ''}`;
}

function formatReply(op: OpName, r: RawReply): string {
  if (r.errno !== null) return r.errno;
  const v = r.values;
  switch (op) {
    case 'fork':
      return `pid ${v[0]}`;
    case 'setsid':
      return `sid ${v[0]}`;
    case 'wait':
    case 'waitid':
      return v[0] === 0 ? 'none' : `pid ${v[0]} ${statusText(v[1] ?? 0)}`;
    case 'report':
      return `pid=${v[0]} tid=${v[1]} ppid=${v[2]} pgid=${v[3]} sid=${v[4]}`;
    case 'chldlog':
      return chldLogText(v);
    default:
      return 'ok';
  }
}

const SI_CODE_NAMES: Readonly<Record<number, string>> = {
  0: 'SI_USER',
  0x80: 'SI_KERNEL',
  [-6]: 'SI_TKILL',
  1: 'CLD_EXITED',
  2: 'CLD_KILLED',
  3: 'CLD_DUMPED',
  4: 'CLD_TRAPPED',
  5: 'CLD_STOPPED',
  6: 'CLD_CONTINUED',
};

/**
 * A chldlog reply (count, then si_code si_pid si_status per entry) as text:
 * 'CLD_EXITED pid 3 exit 2, CLD_STOPPED pid 4 SIGSTOP, SI_USER pid 1'. si_status means
 * something only for the CLD_* codes.
 */
function chldLogText(v: readonly number[]): string {
  const count = v[0] ?? 0;
  if (count === 0) return 'none';
  const entries: string[] = [];
  for (let i = 1; i + 2 < v.length; i += 3) {
    const [code, pid, status] = [v[i]!, v[i + 1]!, v[i + 2]!];
    const name = SI_CODE_NAMES[code] ?? `si_code ${code}`;
    const what = code === 1 ? ` exit ${status}` : code >= 2 && code <= 6 ? ` ${status > 0 && status < 65 ? signalName(status) : `status ${status}`}` : '';
    entries.push(`${name} pid ${pid}${what}`);
  }
  return `${count > entries.length ? `${count} (kept ${entries.length}): ` : ''}${entries.join(', ')}`;
}

function helloText(h: RawHello, thread: boolean): string {
  const levels = h.nspid.slice(1).join('/');
  const tids = thread ? ` nstid=${h.nstid.slice(1).join('/')}` : '';
  return `pid=${h.pid} tid=${h.tid} ppid=${h.ppid} pgid=${h.pgid} sid=${h.sid} nspid=${levels}${tids}`;
}

export class Player {
  private readonly actors = new Map<string, Actor>();
  private readonly byIdx = new Map<number, Actor>();
  private readonly created = new Map<number, Creation>();
  /** Outer pid or tid -> actor name (kept after death: group ids outlive their leaders). */
  private readonly names = new Map<number, string>();
  private views = new Map<number, ProcView>();
  private nextIdx = 1;
  private nsCount = 0;
  private coord = -1;
  private ps: readonly string[] = [];

  constructor(private readonly side: Side) {}

  private readonly records: StepRecord[] = [];
  private error: string | undefined;
  private seq = 0;

  /** Start the scenario (p1). */
  async begin(): Promise<void> {
    this.created.set(0, { name: 'p1', thread: false, creator: null, newns: true });
    const first = await this.side.begin();
    if (first.coord !== undefined) this.coord = first.coord;
    this.records.push(this.absorb('begin', first, null, 0));
    if (first.error) this.error = first.error;
  }

  /** Play one step (nothing once the side has failed). */
  async step(step: Step): Promise<StepRecord | null> {
    if (this.error !== undefined) return null;
    const { record, answer } = await this.runStep(step, ++this.seq);
    this.records.push(record);
    if (answer?.error) this.error = answer.error;
    return record;
  }

  /** End the scenario; the record so far. */
  async finish(): Promise<Observation> {
    await this.side.end();
    return { side: this.side.name, steps: this.records, ...(this.error !== undefined ? { error: this.error } : {}) };
  }

  async play(steps: readonly Step[]): Promise<Observation> {
    try {
      await this.begin();
      for (const s of steps) if ((await this.step(s)) === null) break;
    } catch (e) {
      await this.side.end();
      throw e;
    }
    return this.finish();
  }

  /** Actors that could take a step now (alive, not stopped, not busy). */
  runnable(): string[] {
    return [...this.actors.values()].filter((a) => this.cannotRun(a) === null).map((a) => a.name);
  }

  /** Every actor that said hello, dead or alive. */
  known(): string[] {
    return [...this.actors.keys()];
  }

  /** The side's index of an actor (for SimSide's generator helpers). */
  indexOf(name: string): number | undefined {
    return this.actors.get(name)?.idx;
  }

  isThread(name: string): boolean {
    return this.actors.get(name)?.thread ?? false;
  }

  private skip(step: Step, why: string): { record: StepRecord; answer: null } {
    return { record: { line: step.line, result: `skipped: ${why}`, late: [], hello: [], caught: [], ps: this.ps }, answer: null };
  }

  private async runStep(step: Step, seq: number): Promise<{ record: StepRecord; answer: RawAnswer | null }> {
    const actor = this.actors.get(step.actor);
    if (actor === undefined) return this.skip(step, `${step.actor} does not exist`);
    const why = this.cannotRun(actor);
    if (why !== null) return this.skip(step, why);

    const args: number[] = [];
    for (const r of step.refs ?? []) {
      const n = this.resolve(actor, r);
      if (typeof n === 'string') return this.skip(step, n);
      args.push(n);
    }
    let a = 0;
    let b = 0;
    let c = 0;
    switch (step.op) {
      case 'fork':
      case 'thread': {
        if (this.nextIdx >= MAX_ACTORS) return this.skip(step, 'too many actors');
        a = this.nextIdx++;
        b = (step.flag ? 1 : 0) | (step.cloneParent ? 2 : 0) | (step.setTid !== undefined ? 4 : 0) | (step.vfork ? 8 : 0);
        c = step.setTid ?? 0;
        this.created.set(a, { name: step.name!, thread: step.op === 'thread', creator: actor, newns: step.flag === true });
        break;
      }
      case 'exit':
      case 'threadexit':
        a = step.code ?? 0;
        break;
      case 'setpgid':
        [a, b] = [args[0]!, args[1]!];
        break;
      case 'kill':
        a = args[0]!;
        b = signalArg(step.signal);
        break;
      case 'setns':
        a = args[0]!;
        break;
      case 'tgkill':
        [a, b] = [args[0]!, args[1]!];
        c = signalArg(step.signal);
        break;
      case 'wait':
        a = args[0]!;
        b = step.bits ?? (step.flag ? 1 : 0);
        break;
      case 'waitid':
        a = step.idtype === 'all' ? 0 : step.idtype === 'pid' ? 1 : 2;
        b = args[0] ?? 0;
        c = step.bits ?? 0;
        break;
      case 'trap':
        a = signalArg(step.signal);
        b = (step.flag ? 1 : 0) | (step.noCldStop ? 2 : 0);
        break;
      case 'ignore':
      case 'default':
      case 'pdeathsig':
        a = signalArg(step.signal);
        break;
      case 'subreaper':
      case 'nocldwait':
        a = step.flag ? 1 : 0;
        break;
      case 'lastpid':
        a = step.belowMax !== undefined ? namespacePidMax() - step.belowMax : (step.code ?? 0);
        break;
      default:
        break;
    }
    actor.busy = { seq, op: step.op };
    const answer = await this.side.step(seq, actor.idx, OP[step.op], a, b, c);
    return { record: this.absorb(step.line, answer, actor, seq), answer };
  }

  /** Why `actor` cannot take a step now, or null. */
  private cannotRun(actor: Actor): string | null {
    const view = this.views.get(actor.nspid[0]!);
    if (view === undefined || view.state === 'Z' || view.state === 'E' || !view.liveTids.has(actor.nstid[0]!)) return `${actor.name} is dead`;
    if (view.state === 'T') return `${actor.name} is stopped`;
    if (actor.busy !== null) return `${actor.name} is busy`;
    return null;
  }

  /** A pid argument as `from` writes it: the target's number in from's namespace. */
  private resolve(from: Actor, r: Ref): number | string {
    if (typeof r === 'number') return r;
    const t = this.actors.get(r.actor);
    if (t === undefined) return `${r.actor} does not exist`;
    const depth = from.nsPath.length;
    const visible = t.nsPath.length >= depth && from.nsPath.every((id, i) => t.nsPath[i] === id);
    if (!visible) return `${r.actor} is not visible from ${from.name}`;
    const n = (t.thread ? t.nstid : t.nspid)[depth];
    if (n === undefined) return `${r.actor} has no number at level ${depth}`;
    return r.negate ? -n : n;
  }

  private freshNs(): string {
    return `n${++this.nsCount}`;
  }

  private register(c: Creation, h: RawHello): Actor {
    let nsPath: readonly string[];
    const depth = h.nspid.length - 1;
    if (c.creator === null) nsPath = [this.freshNs()];
    else if (c.thread || depth === c.creator.nsPath.length) nsPath = c.creator.nsPath;
    else if (depth === c.creator.nsPath.length + 1) {
      const id = c.newns ? this.freshNs() : (c.creator.childNs ??= this.freshNs());
      nsPath = [...c.creator.nsPath, id];
    } else nsPath = [...c.creator.nsPath, `${this.freshNs()}?`];
    const actor: Actor = { name: c.name, idx: h.actor, thread: c.thread, nspid: h.nspid, nstid: h.nstid, nsPath, childNs: null, busy: null };
    this.actors.set(c.name, actor);
    this.byIdx.set(h.actor, actor);
    this.names.set(c.thread ? h.nstid[0]! : h.nspid[0]!, c.name);
    return actor;
  }

  private absorb(line: string, answer: RawAnswer, current: Actor | null, seq: number): StepRecord {
    const hello: string[] = [];
    const late: string[] = [];
    let result: string | null = null;

    for (const h of answer.hellos) {
      const c = this.created.get(h.actor);
      if (c !== undefined) {
        this.created.delete(h.actor);
        const a = this.register(c, h);
        hello.push(`${a.name}: ${helloText(h, a.thread)}`);
        continue;
      }
      const a = this.byIdx.get(h.actor);
      if (a === undefined) {
        hello.push(`actor ${h.actor}?: ${helloText(h, false)}`);
        continue;
      }
      // An exec'd image says hello again: that is the exec step's answer.
      a.nspid = h.nspid;
      a.nstid = h.nstid;
      hello.push(`${a.name}: ${helloText(h, a.thread)} (exec)`);
      if (a.busy?.op === 'exec') {
        if (a === current && a.busy.seq === seq) result = 'exec';
        else late.push(`${a.name}: exec`);
        a.busy = null;
      }
    }
    // Creations that never said hello failed (the fork's reply says why).
    for (const [idx, c] of this.created) if (c.creator !== null) this.created.delete(idx);

    for (const r of answer.replies) {
      const a = this.byIdx.get(r.actor);
      if (a === undefined) {
        late.push(`actor ${r.actor}?: seq ${r.seq}`);
        continue;
      }
      const op = a === current && r.seq === seq ? (a.busy?.op ?? 'report') : (a.busy?.op ?? 'report');
      const text = formatReply(op, r);
      if (a === current && r.seq === seq) result = text;
      else late.push(`${a.name}: ${text}`);
      a.busy = null;
    }

    const caught = new Set<string>();
    const rt: string[] = [];
    for (const c of answer.caught) {
      const name = this.byIdx.get(c.actor)?.name ?? `actor ${c.actor}?`;
      const s = signalName(c.signo);
      if (isRealTime(s)) rt.push(`${name} ${s}`);
      else caught.add(`${name} ${s}`);
    }

    this.views = new Map();
    const ps: Array<{ key: number; text: string }> = [];
    for (const p of answer.procs) ps.push(this.view(p));
    ps.sort((x, y) => x.key - y.key);
    this.ps = ps.map((p) => p.text);

    if (current !== null && result === null) {
      // No answer: the actor died (exit, a signal), is blocked (wait) or got stopped.
      const dead = this.cannotRun({ ...current, busy: null })?.endsWith('is dead') ?? false;
      if (dead) {
        current.busy = null;
        result = 'none';
      } else {
        result = 'pending';
      }
    }
    if (line === 'begin') result = answer.hellos.length > 0 ? 'ok' : 'no p1';
    return {
      line,
      result: result ?? 'none',
      late,
      hello,
      caught: [...[...caught].sort(), ...rt.sort()],
      ps: this.ps,
    };
  }

  private name(outer: number): string {
    if (outer === this.coord) return 'coord';
    return this.names.get(outer) ?? (outer === 0 ? '0' : `#${outer}`);
  }

  private view(p: RawProc): { key: number; text: string } {
    const tasks = p.tasks;
    const live = tasks.filter((t) => t.state !== 'Z' && t.state !== 'X' && t.state !== 'E');
    const leader = tasks.find((t) => t.tid === p.pid);
    let state: ProcView['state'];
    if (tasks.some((t) => t.state === 'E')) state = 'E';
    else if (live.length === 0) state = 'Z';
    else if (live.some((t) => t.state === 'T' || t.state === 't')) state = 'T';
    else if (leader === undefined || leader.state === 'Z' || leader.state === 'X') state = 'L';
    else state = 'S';
    this.views.set(p.pid, { state, liveTids: new Set(live.map((t) => t.tid)) });
    const name = this.name(p.pid);
    const threads = live
      .filter((t) => t.tid !== p.pid)
      .map((t) => this.name(t.tid))
      .sort();
    let status = '';
    if (p.status !== undefined) {
      const [kind, n] = p.status.split(':');
      status = kind === 'exit' ? ` exit ${n}` : ` ${signalName(Number(n))}${kind === 'core' ? ' core' : ''}`;
    }
    const text =
      `${name} ${state} parent=${this.name(p.ppid)} pgrp=${this.name(p.pgid)} sid=${this.name(p.sid)}` +
      `${threads.length > 0 ? ` threads=${threads.join(',')}` : ''}${status}`;
    const key = this.actors.get(name)?.idx ?? 1000 + p.pid;
    return { key, text };
  }
}

export function play(side: Side, steps: readonly Step[]): Promise<Observation> {
  return new Player(side).play(steps);
}
