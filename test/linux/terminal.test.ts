/**
 * pidone at an interactive terminal (`docker run -it`), through a real pseudo-terminal
 * (test/helpers/pty-run.py): the foreground group goes to the child and comes back,
 * Ctrl-C reaches the child, a background pidone leaves the terminal alone, and job
 * control in a shell under pidone works.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PIDONE, ROOT } from '../helpers/paths.js';

interface PtyResult {
  status: number;
  output: string;
  failed: number | null;
}

type Step = { expect: string; timeout?: number } | { send: string } | { sleep: number };

function onPty(steps: Step[], command: string[]): PtyResult {
  const r = spawnSync('python3', [join(ROOT, 'test', 'helpers', 'pty-run.py'), JSON.stringify(steps), '--', ...command], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`pty-run failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PtyResult;
}

/** "pg=<pgid> tp=<terminal foreground pgid>" as a shell sees them (ps(1): tpgid). */
const SHOW_GROUPS = 'echo "pg=$(ps -o pgid= -p $$ | tr -d " ") tp=$(ps -o tpgid= -p $$ | tr -d " ")"';

describe('pidone at a terminal', () => {
  it('hands the foreground group to the child', () => {
    const r = onPty([{ expect: 'tp=\\d+' }], [PIDONE, '--', 'sh', '-c', SHOW_GROUPS]);
    expect(r.failed).toBeNull();
    const m = /pg=(\d+) tp=(\d+)/.exec(r.output)!;
    expect(m[1]).toBe(m[2]);
    expect(r.status).toBe(0);
  });

  it('Ctrl-C reaches the child, and pidone exits 130 when it dies of it', () => {
    const r = onPty(
      [{ expect: 'ready' }, { send: '\u0003' }],
      [PIDONE, '--', 'sh', '-c', 'echo ready; exec sleep 30'],
    );
    expect(r.failed).toBeNull();
    expect(r.status).toBe(130);
  });

  it('gives the foreground back to its own group when it exits', () => {
    // The shell leads the session; pidone runs in the shell's group, which is the
    // foreground. After pidone exits, the shell must own the foreground again.
    const script = `${PIDONE} -- sh -c 'exit 0'; ${SHOW_GROUPS}`;
    const r = onPty([{ expect: 'tp=\\d+' }], ['sh', '-c', script]);
    expect(r.failed).toBeNull();
    const m = /pg=(\d+) tp=(\d+)/.exec(r.output)!;
    expect(m[2]).toBe(m[1]);
  });

  it('started in the background, never takes the terminal', () => {
    // With job control (set -m) a background job gets its own process group, outside
    // the foreground. While pidone's child runs, the shell must keep the foreground.
    const script = `set -m; ${PIDONE} -- sleep 2 & sleep 1; ${SHOW_GROUPS}; wait`;
    const r = onPty([{ expect: 'tp=\\d+' }], ['sh', '-c', script]);
    expect(r.failed).toBeNull();
    const m = /pg=(\d+) tp=(\d+)/.exec(r.output)!;
    expect(m[2]).toBe(m[1]);
  });

  it('job control in an interactive shell under pidone: Ctrl-Z stops the job, fg resumes it', () => {
    const r = onPty(
      [
        { expect: 'PROMPT> ' },
        // The job prints a word only once it has run to the end; the typed command
        // line shows it split, so only the job's own output matches.
        { send: `sh -c 'sleep 1; echo RE""SUMED'\r` },
        { sleep: 0.3 },
        { send: '\u001a' },
        { expect: 'Stopped' },
        { send: 'jobs -l\r' },
        { expect: 'Stopped.*sleep 1' },
        { send: 'fg\r' },
        { expect: '(?s)Stopped.*fg.*RESUMED' },
        { expect: '(?s)RESUMED.*PROMPT> ' },
        { send: 'exit 7\r' },
      ],
      ['env', 'PS1=PROMPT> ', PIDONE, '--', 'bash', '--norc', '--noprofile', '-i'],
    );
    expect(r.failed, r.output).toBeNull();
    expect(r.status).toBe(7);
  });

  it('--setsid: the child leads a new session with the terminal as its controlling tty', () => {
    const script = 'echo "sid=$(ps -o sid= -p $$ | tr -d " ") pid=$$ tty=$(ps -o tty= -p $$ | tr -d " ") tp=$(ps -o tpgid= -p $$ | tr -d " ")"';
    const r = onPty([{ expect: 'tp=\\d+' }], [PIDONE, '--setsid', '--', 'sh', '-c', script]);
    expect(r.failed).toBeNull();
    const m = /sid=(\d+) pid=(\d+) tty=(\S+) tp=(\d+)/.exec(r.output)!;
    expect(m[1]).toBe(m[2]);
    expect(m[3]).toMatch(/^pts\//);
    expect(m[4]).toBe(m[2]);
    expect(r.status).toBe(0);
  });
});
