/**
 * The user docs that ship with the package stay true to the code: every flag in
 * docs/usage.md under the group `pidone --help` shows it in, every exit code of the
 * README in usage.md, local links resolve, and the systemd example is a valid unit.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { helpText, OPTIONS } from '../../src/config.js';
import { ROOT } from '../helpers/paths.js';

const DOCS = ['usage.md', 'docker.md', 'kubernetes.md', 'systemd.md', 'github-actions.md', 'logging.md'];
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

  it('every document a source, native, test or launcher file names is in the repository', () => {
    // A name with a folder is read from the repository's root ("docs/usage.md"); a bare
    // name ("usage.md") from the root, docs/ or the naming file's own folder.
    const dangling: string[] = [];
    for (const file of sourceFiles(['src', 'native', 'test', 'bin', 'scripts'])) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?<![\w./-])((?:[\w-]+\/)*[\w-]+\.md)\b/g)) {
        const name = m[1]!;
        const candidates = name.includes('/')
          ? [join(ROOT, name)]
          : [join(ROOT, name), join(ROOT, 'docs', name), join(dirname(file), name)];
        if (!candidates.some((c) => existsSync(c))) dangling.push(`${file.slice(ROOT.length + 1)}: ${name}`);
      }
    }
    expect(dangling).toEqual([]);
  });
});

/** Every file under the given folders of the repository (build output and fixtures' binaries aside). */
function sourceFiles(folders: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      if (entry === 'node_modules' || entry === '.build' || entry === 'build') continue;
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|mts|js|mjs|cjs|cc|h|c|py|sh)$/.test(entry) || !entry.includes('.')) out.push(path);
    }
  };
  for (const folder of folders) walk(join(ROOT, folder));
  return out;
}
