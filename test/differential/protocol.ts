/**
 * What a kernel side answers after each request, before the player turns it into an
 * observation record. Both sides speak this: the real one parses the puppet runner's
 * lines into it (real-side.ts), the simulated one builds it from SimKernel's state
 * and trace (sim-side.ts). Numbers are raw: pids as the actor sees them in replies
 * and hellos, "outer" numbers (the runner's namespace, or the simulator's root one)
 * in the process table, which the player only uses to tell processes apart.
 */

/** A new actor (or an actor that exec'd) says who it is. */
export interface RawHello {
  readonly actor: number;
  readonly pid: number;
  readonly tid: number;
  readonly ppid: number;
  readonly pgid: number;
  readonly sid: number;
  /** NSpid of its process: outer number first, then one per namespace level down to its own. */
  readonly nspid: readonly number[];
  /** NSpid of its thread. */
  readonly nstid: readonly number[];
}

export interface RawReply {
  readonly actor: number;
  readonly seq: number;
  /** null when the call succeeded. */
  readonly errno: string | null;
  readonly values: readonly number[];
}

export interface RawTask {
  readonly tid: number;
  /** /proc state letter: S, T, Z (and t, X). */
  readonly state: string;
}

export interface RawProc {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  readonly sid: number;
  readonly tasks: readonly RawTask[];
  /** p1 only, once it is a zombie: 'exit:N', 'sig:N' or 'core:N'. */
  readonly status?: string;
}

export interface RawAnswer {
  /** The coordinator's outer pid (begin only). */
  readonly coord?: number;
  readonly hellos: readonly RawHello[];
  readonly replies: readonly RawReply[];
  /** A trapped signal ran its handler: the process's main actor and the signal number. */
  readonly caught: ReadonlyArray<{ readonly actor: number; readonly signo: number }>;
  readonly procs: readonly RawProc[];
  /** The side could not finish the request (the real one did not settle, say). */
  readonly error?: string;
}

export interface Side {
  readonly name: string;
  /** Start a scenario: p1 (actor 0), the first process of a fresh PID namespace. */
  begin(): Promise<RawAnswer>;
  /** Actor `actor` runs `op(a, b, c)`; answer once everything has settled. */
  step(seq: number, actor: number, op: number, a: number, b: number, c: number): Promise<RawAnswer>;
  /** Tear the scenario down. */
  end(): Promise<void>;
  close(): Promise<void>;
}

/** Parse the runner's answer lines (see test/fixtures/puppet.c). */
export function parseAnswer(lines: readonly string[]): RawAnswer {
  const hellos: RawHello[] = [];
  const replies: RawReply[] = [];
  const caught: Array<{ actor: number; signo: number }> = [];
  const procs: RawProc[] = [];
  let coord: number | undefined;
  let error: string | undefined;
  const nums = (s: string): number[] => (s === '?' ? [] : s.split(',').map(Number));
  for (const line of lines) {
    const w = line.split(' ');
    switch (w[0]) {
      case 'C':
        coord = Number(w[1]);
        break;
      case 'H':
        hellos.push({
          actor: Number(w[1]),
          pid: Number(w[2]),
          tid: Number(w[3]),
          ppid: Number(w[4]),
          pgid: Number(w[5]),
          sid: Number(w[6]),
          nspid: nums(w[7] ?? '?'),
          nstid: nums(w[8] ?? '?'),
        });
        break;
      case 'R':
        replies.push({
          actor: Number(w[1]),
          seq: Number(w[2]),
          errno: w[3] === 'err' ? (w[4] ?? 'E?') : null,
          values: w[3] === 'ok' ? w.slice(4).map(Number) : [],
        });
        break;
      case 'S':
        caught.push({ actor: Number(w[1]), signo: Number(w[2]) });
        break;
      case 'P': {
        const tasks: RawTask[] = [];
        let status: string | undefined;
        for (const t of w.slice(5)) {
          if (t.startsWith('status=')) status = t.slice(7);
          else {
            const [tid, state] = t.split(':');
            if (state !== 'gone') tasks.push({ tid: Number(tid), state: state ?? '?' });
          }
        }
        procs.push({ pid: Number(w[1]), ppid: Number(w[2]), pgid: Number(w[3]), sid: Number(w[4]), tasks, ...(status ? { status } : {}) });
        break;
      }
      case 'X':
        error = line.slice(2);
        break;
      default:
        if (line !== '') error = `unexpected line from the runner: ${line}`;
    }
  }
  return { ...(coord !== undefined ? { coord } : {}), hellos, replies, caught, procs, ...(error !== undefined ? { error } : {}) };
}
