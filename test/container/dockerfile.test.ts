/**
 * The Dockerfile, statically: a linter (dockerfilelint, from npm; hadolint is neither
 * on npm nor in Debian), hadolint's main rules checked here, and the shape the issue
 * asks for: a build stage that compiles, a final stage with Node + pidone only, a
 * base-image ARG, `ENTRYPOINT ["pidone", "--"]` with an example CMD. What the image
 * runs is tested for real in runc.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';
import { DOCKERFILE, execForm, last, parseDockerfile } from './dockerfile.js';

const dockerfile = parseDockerfile();
const final = dockerfile.stages[dockerfile.stages.length - 1]!;
const all = dockerfile.stages.flatMap((s) => s.instructions);

function fails(rule: string, check: (args: string) => boolean, keyword = 'RUN'): string[] {
  return all
    .filter((i) => i.keyword === keyword && !i.ignores.includes(rule) && check(i.args))
    .map((i) => `Dockerfile:${i.line}: ${rule}: ${i.args.slice(0, 80)}`);
}

describe('Dockerfile', () => {
  it('passes dockerfilelint', () => {
    const require = createRequire(import.meta.url);
    const bin = join(dirname(require.resolve('dockerfilelint/package.json')), 'bin', 'dockerfilelint');
    const r = spawnSync(process.execPath, [bin, '-c', join(ROOT, 'test', 'container'), DOCKERFILE], { encoding: 'utf8' });
    expect(r.stdout).toContain('Issues: None found');
    expect(r.status).toBe(0);
  });

  it("follows hadolint's rules that apply to it", () => {
    const problems = [
      // DL3006 (tagged base), via the ARG every FROM uses.
      ...[...dockerfile.globalArgs].filter(([, v]) => v !== undefined && !/:[\w.-]+$/.test(v)).map(([k]) => `DL3006: ARG ${k} has no tag`),
      ...fails('DL3020', () => true, 'ADD'), // COPY, not ADD
      ...fails('DL3003', (a) => /(^|&&|;)\s*cd\s/.test(a)), // WORKDIR, not cd
      ...fails('DL3014', (a) => /apt-get install/.test(a) && !/\s-y\b/.test(a)),
      ...fails('DL3015', (a) => /apt-get install/.test(a) && !a.includes('--no-install-recommends')),
      ...fails('DL3009', (a) => /apt-get (update|install)/.test(a) && !a.includes('rm -rf /var/lib/apt/lists/')),
      ...fails('DL3019', (a) => /apk add/.test(a) && !a.includes('--no-cache')),
      ...fails('DL3016', (a) => /npm install(\s+-g)?\s+\w/.test(a)), // pin npm installs: npm ci only
      ...fails('DL3025', (a) => !a.startsWith('['), 'ENTRYPOINT'),
      ...fails('DL3025', (a) => !a.startsWith('['), 'CMD'),
      ...(all.some((i) => i.keyword === 'MAINTAINER') ? ['DL4000: MAINTAINER is deprecated'] : []),
      ...dockerfile.stages.filter((s) => s.instructions.filter((i) => i.keyword === 'CMD').length > 1).map(() => 'DL4003: several CMDs'),
      ...dockerfile.stages.filter((s) => s.instructions.filter((i) => i.keyword === 'ENTRYPOINT').length > 1).map(() => 'DL4004: several ENTRYPOINTs'),
    ];
    expect(problems).toEqual([]);
  });

  it('builds from a base-image ARG in every stage', () => {
    expect([...dockerfile.globalArgs.keys()]).toContain('BASE_IMAGE');
    expect(dockerfile.globalArgs.get('BASE_IMAGE')).toMatch(/^node:2[2-9]|^node:[3-9]\d/); // a supported Node
    for (const stage of dockerfile.stages) expect(stage.from).toBe('${BASE_IMAGE}');
  });

  it('compiles in a build stage and ships only /opt/pidone from it', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    const build = dockerfile.stages[0]!;
    expect(build.name).toBe('build');
    const buildRuns = build.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n');
    expect(buildRuns).toMatch(/npm ci/);
    expect(buildRuns).toMatch(/npm run install/); // the addon (node-gyp)
    expect(buildRuns).toMatch(/npm run build/); // the TypeScript
    expect(buildRuns).toMatch(/node scripts\/stage-image\.js \/stage\/opt\/pidone/); // the layout the runc tests use

    const copies = final.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies).toEqual(['--from=build /stage/opt/pidone /opt/pidone']);
    // No toolchain and no install from a registry in the final stage.
    for (const run of final.instructions.filter((i) => i.keyword === 'RUN')) {
      expect(run.args).not.toMatch(/apt-get|apk|npm (ci|install)|node-gyp/);
    }
  });

  it('runs `pidone --` as the ENTRYPOINT with an example CMD', () => {
    expect(execForm(last(final, 'ENTRYPOINT'))).toEqual(['pidone', '--']);
    const cmd = execForm(last(final, 'CMD'));
    expect(cmd).not.toBeNull();
    expect(cmd![0]).toBe('node');
    const runs = final.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n');
    expect(runs).toContain('ln -s /opt/pidone/bin/pidone /usr/local/bin/pidone');
  });

  it('sends the build only the sources (.dockerignore)', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(ignore[0]).toBe('**');
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    // Everything the build stage COPYs from the context is let through, and no more.
    const copied = dockerfile.stages[0]!.instructions
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(' ').slice(0, -1))
      .map((p) => p.replace(/\/$/, ''));
    expect(new Set(allowed)).toEqual(new Set(copied));
    for (const p of ['node_modules', 'build', 'dist', 'prebuilds', 'test', '.git']) expect(allowed).not.toContain(p);
  });
});
