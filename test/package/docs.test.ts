/**
 * The docs stay true to the code: every flag in docs/usage.md under the group
 * `pidone --help` shows it in, every exit code of the README in usage.md, local links
 * resolve, the systemd example is a valid unit, every path docs/architecture.md names
 * exists, and every repository file a comment names exists (reported as file:line).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { helpText, OPTIONS } from '../../src/config.js';
import { ROOT } from '../helpers/paths.js';

const DOCS = ['usage.md', 'docker.md', 'kubernetes.md', 'systemd.md', 'github-actions.md', 'logging.md', 'architecture.md'];
const usage = readFileSync(join(ROOT, 'docs', 'usage.md'), 'utf8');

/** The `### Heading` sections of usage.md's "Flags" part, with their text. */
function flagSections(): Map<string, string> {
  const flags = usage.slice(usage.indexOf('## Flags'), usage.indexOf('## Environment variables'));
  const out = new Map<string, string>();
  for (const part of flags.split('\n### ').slice(1)) {
    const [title, ...body] = part.split('\n');
    out.set(title!.trim(), body.join('\n'));
  }
  return out;
}

describe('docs', () => {
  it('usage.md lists every flag under the group pidone --help shows it in, in the same order', () => {
    const sections = flagSections();
    const helpGroups = [...new Set(OPTIONS.map((o) => o.group.replace(/:$/, '')))];
    expect([...sections.keys()]).toEqual(helpGroups);
    const help = helpText();
    for (const option of OPTIONS) {
      const body = sections.get(option.group.replace(/:$/, ''))!;
      expect(body, `--${option.name} in docs/usage.md under ${option.group}`).toContain(`\`--${option.name}`);
      if (option.alias) expect(body).toContain(`\`-${option.alias}\``);
      expect(help).toContain(`--${option.name}`);
    }
  });

  it("usage.md documents every exit code of the README's table", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Exit codes'));
    const codes = [...table.matchAll(/^\| (\d+(?: \/ \d+)?|128\+n|child's code) \|/gm)].flatMap((m) => m[1]!.split(' / '));
    expect(codes.length).toBeGreaterThan(4);
    const exitSection = usage.slice(usage.indexOf('## Exit codes'), usage.indexOf('## Library API'));
    for (const code of codes) {
      if (code === "child's code") continue;
      expect(exitSection).toMatch(new RegExp(`^\\| ${code.replace('+', '\\+')} \\|`, 'm'));
    }
    expect(exitSection).toMatch(/^\| 125 \| an internal error/m);
  });

  it('local links in the docs resolve', () => {
    const broken: string[] = [];
    for (const doc of [...DOCS.map((d) => join(ROOT, 'docs', d)), join(ROOT, 'examples', 'library', 'README.md')]) {
      const text = readFileSync(doc, 'utf8');
      for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        // compat.md is another part's doc; it may land separately.
        if (target === 'compat.md') continue;
        if (!existsSync(resolve(dirname(doc), target))) broken.push(`${doc}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('examples/systemd is a valid unit that runs pidone as the main process', () => {
    const unit = readFileSync(join(ROOT, 'examples', 'systemd', 'pidone-app.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\S*pidone .*--grace \S+ -- /m);
    expect(unit).toMatch(/^KillMode=mixed$/m);
    expect(unit).toMatch(/^TimeoutStopSec=/m);
    // systemd's own check, where systemd is installed (it is on Debian machines and in CI).
    const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (analyze.error) return;
    const dir = mkdtempSync(join(tmpdir(), 'pidone-unit-'));
    try {
      // The example's paths made real: this checkout's pidone, an existing program.
      writeFileSync(
        join(dir, 'pidone-app.service'),
        unit.replace(/^ExecStart=\S+ (.*) -- .*$/m, `ExecStart=${join(ROOT, 'bin', 'pidone')} $1 -- /bin/sleep 1`).replace(/^WorkingDirectory=.*$/m, `WorkingDirectory=${dir}`),
      );
      writeFileSync(join(dir, 'pidone-app.socket'), readFileSync(join(ROOT, 'examples', 'systemd', 'pidone-app.socket')));
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, 'pidone-app.service'), join(dir, 'pidone-app.socket')], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.stderr.trim()).toBe('');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every repository path architecture.md names exists, and it points to the test of its import rules', () => {
    const architecture = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
    const missing: string[] = [];
    for (const m of architecture.matchAll(/`([\w-]+\/[\w./-]*)`/g)) {
      if (TOP_FOLDERS.includes(m[1]!.split('/')[0]!) && !existsSync(join(ROOT, m[1]!))) missing.push(m[1]!);
    }
    expect(TOP_FOLDERS).toEqual(expect.arrayContaining(['src', 'native', 'test', 'bin', 'docs']));
    expect(missing, 'paths in docs/architecture.md that the repository does not have').toEqual([]);
    // The import rules are the layering test's; the document points to it.
    expect(architecture).toContain('test/package/layers.test.ts');
  });

  it('every repository file a comment in src/, native/, test/, bin/ or scripts/ names exists', () => {
    const dangling: string[] = [];
    for (const file of sourceFiles(['src', 'native', 'test', 'bin', 'scripts'])) {
      for (const ref of danglingReferences(file)) dangling.push(`${ref.file}:${ref.line}: ${ref.name}`);
    }
    expect(dangling, 'comments that name a file the repository does not have').toEqual([]);
  });

  it('the reference check reads comments only, and catches each kind of name it claims to', () => {
    const dir = mkdtempSync(join(ROOT, 'test', '.refcheck-'));
    try {
      const script = join(dir, 'sample.ts');
      writeFileSync(
        script,
        [
          '// See docs/usage.md and MISSING.md.', // line 1: one that exists, one that does not
          "const s = 'docs/no-such-doc.md'; /* src/no-such.ts */", // line 2: a string is not a comment
          '/**',
          ' * kernel/exit.c (Linux) and <sys/wait.h>; src/kernel/sim/ and bin/pidone exist;', // line 4: outside refs, dirs
          ' * compat/no-such.ts, no-such-helper.ts, native/no-such.h, test/no-such/', // line 5: four missing
          ' * src/init.ts, ./missing.sh, server.js, kernel/kernel.js, exec-plan.h.', // line 6: all fine or not checked
          ' */',
          'const url = `https://example.com/${s}//docs/also-not.md`;', // line 8: a template, not a comment
        ].join('\n'),
      );
      const c = join(dir, 'sample.cc');
      writeFileSync(c, ['#include "exports.h"', 'const char* s = "// docs/not-a-comment.md";', '// native/no-such.cc: gone', '/* NOTES-ELSEWHERE.md */'].join('\n'));
      const sh = join(dir, 'sample');
      writeFileSync(sh, ['#!/bin/sh', 'echo "# docs/not-a-comment.md"', '# scripts/no-such.sh says why', 'exit 0 # docs/gone.md'].join('\n'));
      const found = [script, c, sh].flatMap((f) => danglingReferences(f)).map((r) => `${r.file.replace(/^.*\//, '')}:${r.line}: ${r.name}`);
      expect(found).toEqual([
        'sample.ts:1: MISSING.md',
        'sample.ts:2: src/no-such.ts',
        'sample.ts:5: compat/no-such.ts',
        'sample.ts:5: no-such-helper.ts',
        'sample.ts:5: native/no-such.h',
        'sample.ts:5: test/no-such/',
        'sample.cc:3: native/no-such.cc',
        'sample.cc:4: NOTES-ELSEWHERE.md',
        'sample:3: scripts/no-such.sh',
        'sample:4: docs/gone.md',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Folders the build writes, named in comments before they exist. */
const BUILD_OUTPUT = ['dist', 'build', 'prebuilds', 'node_modules'];
/**
 * Files that only an installed package or a staged image has: scripts/install.js and
 * scripts/stage-image.js move the sh launcher there when the native one takes its place.
 */
const INSTALL_OUTPUT = ['bin/pidone.sh'];
/** The repository's top-level folders a comment may name a path in ("src/init.ts", "test/sim/"). */
const TOP_FOLDERS = readdirSync(ROOT).filter((e) => !e.startsWith('.') && !BUILD_OUTPUT.includes(e) && statSync(join(ROOT, e)).isDirectory());
/** Extensions of the repository's own sources, for names given without a top folder ("compat/tini.ts", "init.ts"). */
const OWN_EXTENSIONS = /\.(ts|mts|js|mjs|cjs|cc|py|sh|md)$/;
/** The same, for a name without any folder ("init.ts"); a bare "server.js" is the user's. */
const OWN_BARE_EXTENSIONS = /\.(ts|mts|cc|py|md)$/;

interface Reference {
  readonly file: string;
  readonly line: number;
  readonly name: string;
}

/**
 * The file names in `file`'s comments that lead nowhere:
 * - a path under a top folder ("docs/usage.md", "src/kernel/sim/", "bin/pidone") must exist
 *   from the repository's root;
 * - a document ("usage.md") must be at the root, in docs/ or beside `file`;
 * - another name of a repository source must exist beside `file`, in a folder above it
 *   or in src/ ("compat/tini.ts", "kernel/kernel.js" for kernel.ts), or, without a
 *   folder ("linux-kernel.ts"), anywhere in the repository.
 * Not checked: C headers and sources named without a top folder ("signal.h",
 * "kernel/exit.c": the system's or Linux's), a bare JavaScript name ("server.js": the
 * user's, in an example), and paths from the current directory ("./run.sh": examples of
 * a command line).
 */
function danglingReferences(file: string): Reference[] {
  const out: Reference[] = [];
  const text = readFileSync(file, 'utf8');
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const lineOf = (at: number) => lineStarts.findLastIndex((start) => start <= at) + 1;
  for (const comment of commentsOf(file, text)) {
    for (const m of comment.text.matchAll(/(?<![\w./<-])((?:\.{1,2}\/)?(?:[\w.-]+\/)*[\w.-]*[\w-])(\/?)(?![\w/-])/g)) {
      const name = m[1]! + m[2]!;
      if (!isReference(name) || resolves(name, file)) continue;
      const at = comment.start + m.index;
      out.push({ file: file.startsWith(ROOT) ? file.slice(ROOT.length + 1) : file, line: lineOf(at), name });
    }
  }
  return out;
}

/** Whether a word of a comment is a file name this check answers for. */
function isReference(name: string): boolean {
  const top = name.split('/')[0]!;
  // What the build makes (dist/pidone.cjs, build/Release/, the fixtures in test/.build/).
  if (BUILD_OUTPUT.includes(top) || name.includes('/.build/')) return false;
  if (INSTALL_OUTPUT.some((f) => name === f || name.endsWith(`/${f}`))) return false;
  if (name.includes('/') && TOP_FOLDERS.includes(top)) return true;
  if (name.startsWith('./') || name.startsWith('../')) return false;
  return name.includes('/') ? OWN_EXTENSIONS.test(name) : OWN_BARE_EXTENSIONS.test(name);
}

function resolves(name: string, from: string): boolean {
  const top = name.split('/')[0]!;
  if (name.includes('/') && TOP_FOLDERS.includes(top)) return existsSync(join(ROOT, name));
  // A TypeScript import names the compiled file: ./world.js is world.ts.
  const names = /\.js$/.test(name) ? [name, name.replace(/\.js$/, '.ts')] : [name];
  const folders = [ROOT, join(ROOT, 'docs')];
  for (let dir = dirname(from); dir.startsWith(ROOT) && dir !== ROOT; dir = dirname(dir)) folders.push(dir);
  folders.push(join(ROOT, 'src'));
  if (names.some((n) => folders.some((f) => existsSync(resolve(f, n))))) return true;
  return !name.includes('/') && !name.endsWith('.md') && names.some((n) => repositoryBasenames().has(n));
}

let basenames: Set<string> | null = null;
/** The names of every file of the repository, without their folders. */
function repositoryBasenames(): Set<string> {
  basenames ??= new Set(sourceFiles(TOP_FOLDERS).map((f) => f.slice(f.lastIndexOf('/') + 1)));
  return basenames;
}

/** The comments of a source file, each with its offset in the text. */
function commentsOf(file: string, text: string): Array<{ start: number; text: string }> {
  const first = text.slice(0, text.indexOf('\n') >>> 0);
  if (/\.(ts|mts|js|mjs|cjs)$/.test(file) || (first.startsWith('#!') && first.includes('node'))) return scriptComments(file, text);
  if (/\.(cc|h|c)$/.test(file)) return cComments(text);
  // sh and Python. The launcher bin/pidone is sh and JavaScript in one file: its sh half
  // (with # comments) is one JavaScript comment, its JavaScript half has // comments.
  const comments = hashComments(text);
  if (first.startsWith('#!')) {
    for (const m of text.matchAll(/^[ \t]*\/\/.*$/gm)) comments.push({ start: m.index, text: m[0] });
  }
  return comments;
}

/**
 * TypeScript and JavaScript comments, as the compiler sees them (strings, templates and
 * regular expressions are not comments). Every comment is in the trivia that starts
 * where one node begins or another ends: the comments on that line (trailing ranges)
 * and on the lines after it (leading ranges).
 */
function scriptComments(file: string, text: string): Array<{ start: number; text: string }> {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, /\.m?ts$/.test(file) ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const seen = new Map<number, string>();
  const add = (pos: number) => {
    for (const r of [...(ts.getTrailingCommentRanges(text, pos) ?? []), ...(ts.getLeadingCommentRanges(text, pos) ?? [])]) {
      seen.set(r.pos, text.slice(r.pos, r.end));
    }
  };
  const visit = (node: ts.Node): void => {
    add(node.pos);
    add(node.end);
    ts.forEachChild(node, visit);
  };
  visit(source);
  // The shebang line is not a comment; a comment right after it starts at the next line.
  add(text.startsWith('#!') ? text.indexOf('\n') + 1 : 0);
  return [...seen].map(([start, t]) => ({ start, text: t }));
}

/** C and C++ comments: // to the end of the line, and block comments, outside string and character literals. */
function cComments(text: string): Array<{ start: number; text: string }> {
  const out: Array<{ start: number; text: string }> = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"' || ch === "'") {
      for (i++; i < text.length && text[i] !== ch && text[i] !== '\n'; i++) if (text[i] === '\\') i++;
    } else if (ch === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i) >>> 0;
      out.push({ start: i, text: text.slice(i, end) });
      i = end;
    } else if (ch === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      const end = close < 0 ? text.length : close + 2;
      out.push({ start: i, text: text.slice(i, end) });
      i = end - 1;
    }
  }
  return out;
}

/** sh and Python comments: from a # that starts a word, outside quotes, to the end of the line. */
function hashComments(text: string): Array<{ start: number; text: string }> {
  const out: Array<{ start: number; text: string }> = [];
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote !== null) {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) quote = null;
    } else if (ch === '\\') {
      i++;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const end = text.indexOf('\n', i) >>> 0;
      out.push({ start: i, text: text.slice(i, end) });
      i = end;
    }
  }
  return out;
}

/** Every file under the given folders of the repository (build output and fixtures' binaries aside). */
function sourceFiles(folders: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      if (entry === 'node_modules' || entry.startsWith('.') || entry === 'build' || entry === 'results') continue;
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|mts|js|mjs|cjs|cc|h|c|py|sh)$/.test(entry) || !entry.includes('.')) out.push(path);
    }
  };
  for (const folder of folders) walk(join(ROOT, folder));
  return out;
}
