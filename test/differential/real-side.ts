/**
 * The real kernel: one puppet runner (test/fixtures/puppet.c) under
 * `unshare --pid --fork --mount-proc`, serving many scenarios one after the other.
 * Each scenario gets its own PID namespace (the runner clones p1 with CLONE_NEWPID),
 * so pid numbers inside start at 1 every time.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fixture } from '../helpers/paths.js';
import { parseAnswer, type RawAnswer, type Side } from './protocol.js';

export class RealSide implements Side {
  readonly name = 'linux';
  private readonly child: ChildProcessWithoutNullStreams;
  private buffer = '';
  private lines: string[] = [];
  private waiter: (() => void) | null = null;
  private exited: string | null = null;
  private stderr = '';

  constructor(puppet = fixture('puppet')) {
    this.child = spawn('unshare', ['--pid', '--fork', '--mount-proc', puppet, 'runner'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      this.buffer += chunk;
      const parts = this.buffer.split('\n');
      this.buffer = parts.pop()!;
      this.lines.push(...parts);
      this.wake();
    });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.on('exit', (code, signal) => {
      this.exited = `the puppet runner exited (${signal ?? `code ${code}`})${this.stderr ? `: ${this.stderr.trim()}` : ''}`;
      this.wake();
    });
    this.child.on('error', (e) => {
      this.exited = `cannot start the puppet runner: ${e.message}`;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Send one request; resolve with the lines up to the "." that ends the answer. */
  private async request(line: string): Promise<string[]> {
    if (this.exited !== null) throw new Error(this.exited);
    this.child.stdin.write(`${line}\n`);
    for (;;) {
      const end = this.lines.indexOf('.');
      if (end >= 0) return this.lines.splice(0, end + 1).slice(0, end);
      if (this.exited !== null) throw new Error(this.exited);
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  async begin(): Promise<RawAnswer> {
    return parseAnswer(await this.request('B'));
  }

  async step(seq: number, actor: number, op: number, a: number, b: number, c: number): Promise<RawAnswer> {
    return parseAnswer(await this.request(`S ${seq} ${actor} ${op} ${a} ${b} ${c}`));
  }

  async end(): Promise<void> {
    const problem = (await this.request('E')).find((l) => l.startsWith('X '));
    if (problem !== undefined) throw new Error(`the puppet runner: ${problem.slice(2)}`);
  }

  async close(): Promise<void> {
    if (this.exited !== null) return;
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end('Q\n');
    await done;
  }
}
