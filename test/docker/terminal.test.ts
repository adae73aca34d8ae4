/**
 * `docker run -it`: the container's terminal is a pty that docker connects to ours, so
 * these run docker itself on a fresh pty (test/helpers/pty-run.py) and type into it:
 * Ctrl-C must end the app with 130, and job control must work under an interactive
 * shell that pidone runs (the shell, not pidone, owns the terminal's foreground).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { IMAGE, LABEL, PTY_RUN, dockerSkipReason } from './docker.js';

const skip = dockerSkipReason();

interface PtyResult {
  status: number;
  output: string;
  failed: number | null;
}

type Step = { expect: string; timeout?: number } | { send: string } | { sleep: number };

function dockerOnPty(steps: Step[], dockerArgs: string[]): PtyResult {
  const r = spawnSync('python3', [PTY_RUN, JSON.stringify(steps), '--', 'docker', ...dockerArgs], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`pty-run failed (exit ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as PtyResult;
}

describe.skipIf(skip !== '')(`docker run -it${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('Ctrl-C ends a Node app that has no SIGINT handler: exit 130', () => {
    const r = dockerOnPty(
      [{ expect: 'ready', timeout: 60 }, { sleep: 0.3 }, { send: '\u0003' }],
      ['run', '-it', '--rm', '--label', LABEL, '--network', 'none', IMAGE, 'node', '-e', "console.log('ready'); setInterval(() => {}, 1 << 30)"],
    );
    expect(r.failed, r.output).toBeNull();
    expect(r.status, r.output).toBe(130);
  });

  it('Ctrl-Z and fg under an interactive bash: the job stops, comes back and reads the terminal again', () => {
    const prompt = 'pidone-sh[$] ';
    const r = dockerOnPty(
      [
        { expect: prompt, timeout: 60 },
        // The job says it runs (the typed line, echoed, has a ';' after the word).
        { send: "sh -c 'echo cat-running; exec cat'\r" },
        { expect: 'cat-running\\r\\n' },
        { sleep: 0.3 },
        { send: '\u001a' },
        { expect: 'Stopped' },
        { sleep: 0.3 },
        { send: 'fg\r' },
        { sleep: 0.5 },
        { send: 'after-fg\r' },
        // The terminal echoes the line, then cat writes it back: twice means cat read it.
        { expect: 'after-fg\\r\\n(.*\\r\\n)?after-fg' },
        // EOF ends cat; the shell reads the terminal again (the echoed line has no 42).
        { send: '\u0004' },
        { sleep: 0.3 },
        { send: 'echo "back $((40 + 2))"\r' },
        { expect: 'back 42' },
        { send: 'exit 5\r' },
      ],
      ['run', '-it', '--rm', '--label', LABEL, '--network', 'none', '-e', 'PS1=pidone-sh$ ', IMAGE, 'bash', '--norc', '--noprofile', '-i'],
    );
    expect(r.failed, r.output).toBeNull();
    expect(r.output).not.toMatch(/no job control/);
    expect(r.status, r.output).toBe(5);
  });
});
