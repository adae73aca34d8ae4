/**
 * The layers of docs/architecture.md, checked on the import statements of src/: who may
 * import whom. A rule here and its paragraph there say the same thing; change both.
 *
 * Every form counts: `import`, `import type`, `export ... from`, `import()` and
 * `require()` of a string, and `import('x').T` in a type. A type-only import is still a
 * dependency for the reader, so it crosses a layer like any other.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';

interface Import {
  /** The importing file, from the repository's root ("src/init.ts"). */
  readonly file: string;
  readonly line: number;
  /** The specifier as written ("./kernel/kernel.js", "node:fs", "pino"). */
  readonly specifier: string;
  /** A file of the repository ("src/kernel/kernel.ts"), or the specifier itself for a builtin or a package. */
  readonly target: string;
  /** How it loads: erased at compile time (`import type`), at start, or when called (`import()`, `require()`). */
  readonly loads: 'never' | 'static' | 'dynamic';
}

/** Every import of one TypeScript file's text. */
function importsOf(file: string, text: string): Import[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: Import[] = [];
  const add = (literal: ts.Node, loads: Import['loads']) => {
    if (!ts.isStringLiteralLike(literal)) return;
    const specifier = literal.text;
    out.push({
      file,
      line: source.getLineAndCharacterOfPosition(literal.getStart(source)).line + 1,
      specifier,
      target: resolveSpecifier(file, specifier),
      loads,
    });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, isTypeOnlyImport(node) ? 'never' : 'static');
    else if (ts.isExportDeclaration(node) && node.moduleSpecifier) add(node.moduleSpecifier, isTypeOnlyExport(node) ? 'never' : 'static');
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly ? 'never' : 'static');
    } else if (ts.isCallExpression(node) && node.arguments.length === 1) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) add(node.arguments[0]!, 'dynamic');
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, 'never');
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** `import type`, or an import whose every name is a type: the compiler erases it. */
function isTypeOnlyImport(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (clause === undefined) return false; // import './x.js': for its side effects
  if (clause.isTypeOnly) return true;
  const bindings = clause.namedBindings;
  return clause.name === undefined && bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
}

function isTypeOnlyExport(node: ts.ExportDeclaration): boolean {
  if (node.isTypeOnly) return true;
  const clause = node.exportClause;
  return clause !== undefined && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly);
}

/** Every file of src/ that loading `roots` loads, following imports that load at start (and, with `dynamic`, those that load later). */
function loadedBy(roots: readonly string[], dynamic: boolean): Set<string> {
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const i of imports) {
      if (i.file === file && i.target.startsWith('src/') && (i.loads === 'static' || (dynamic && i.loads === 'dynamic'))) queue.push(i.target);
    }
  }
  return seen;
}

/** "./kernel/kernel.js" from src/init.ts is src/kernel/kernel.ts: TypeScript imports name the compiled file. */
function resolveSpecifier(file: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  const path = relative(ROOT, resolve(ROOT, dirname(file), specifier));
  return path.replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts');
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(join(ROOT, path)).isDirectory()) return tsFiles(path);
    return /\.m?ts$/.test(entry) && !entry.endsWith('.d.ts') ? [path] : [];
  });
}

const sources = tsFiles('src');
const imports = sources.flatMap((file) => importsOf(file, readFileSync(join(ROOT, file), 'utf8')));

/** A file or a folder (ending in '/') of the repository, or a kind of import. */
type Where = string;

const isBuiltin = (target: string) => target.startsWith('node:');
const isPackage = (target: string) => !target.startsWith('node:') && !target.startsWith('src/') && !target.startsWith('.') && !target.includes('/../');
const within = (target: string, where: Where) => (where.endsWith('/') ? target.startsWith(where) : target === where);

/** The entry points that build a kernel and an Init: the CLI's boot and main, the library, the shared start-up. */
const STARTUP: Where[] = ['src/boot.ts', 'src/main.ts', 'src/index.ts', 'src/startup.ts'];
/** The command line and its parsers. */
const CLI: Where[] = ['src/main.ts', 'src/boot.ts', 'src/sim-cli.ts'];
const CONFIG: Where[] = ['src/config.ts', 'src/config-defaults.ts', 'src/compat/'];
const POLICY: Where[] = ['src/init.ts', 'src/init/'];
const LINUX: Where = 'src/kernel/linux/';
const SIM: Where = 'src/kernel/sim/';

interface Rule {
  /** What the rule says, as docs/architecture.md says it. */
  readonly says: string;
  /** The importing files it is about. */
  readonly files: (file: string) => boolean;
  /** True for an import the rule forbids. */
  readonly forbids: (target: string) => boolean;
}

const inAny = (wheres: readonly Where[]) => (path: string) => wheres.some((w) => within(path, w));

const RULES: Rule[] = [
  {
    says: 'the policy (src/init.ts) reaches the system only through the Kernel interface, and knows nothing of the command line, the compat modes, the library or start-up',
    files: inAny(POLICY),
    forbids: (t) => isBuiltin(t) || inAny([LINUX, SIM, 'src/compat/', ...STARTUP, ...CLI])(t),
  },
  {
    says: 'the Kernel interface (src/kernel/kernel.ts) names signals and errnos (src/kernel/errno.ts) and nothing else of pidone: no implementation, no policy, no system module',
    files: (f) => f === 'src/kernel/kernel.ts' || f === 'src/kernel/errno.ts',
    forbids: (t) =>
      isBuiltin(t) || isPackage(t) || (t.startsWith('src/') && !t.startsWith('src/signal') && t !== 'src/kernel/errno.ts'),
  },
  {
    says: 'the simulator (src/kernel/sim/) models Linux in memory: it imports no other backend, no policy, no configuration, no logger and nothing of the host (the same inputs give the same trace)',
    files: (f) => within(f, SIM),
    forbids: (t) =>
      isBuiltin(t) || isPackage(t) || inAny([LINUX, ...POLICY, ...CONFIG, ...STARTUP, ...CLI, 'src/logger.ts'])(t),
  },
  {
    says: 'LinuxKernel (src/kernel/linux/) implements the interface over the addon: no simulator, no policy, no configuration, no entry point',
    files: (f) => within(f, LINUX),
    forbids: (t) => inAny([SIM, ...POLICY, ...CONFIG, ...STARTUP, ...CLI])(t),
  },
  {
    says: 'the library (src/index.ts) does not load the command line (src/main.ts, src/boot.ts): no process.exit, no argv parsing on import',
    files: (f) => f === 'src/index.ts',
    forbids: (t) => inAny(['src/main.ts', 'src/boot.ts', 'src/sim-cli.ts'])(t),
  },
  {
    says: 'the command line does not go through the library (src/index.ts)',
    files: inAny(CLI),
    forbids: (t) => t === 'src/index.ts',
  },
  {
    says: 'configuration and compat parsing decide a Config and nothing else: no policy, no kernel backend, no entry point',
    files: inAny(CONFIG),
    forbids: (t) => inAny([...POLICY, LINUX, SIM, ...STARTUP, ...CLI])(t),
  },
  {
    says: 'the shared leaves (signal names, exit statuses, durations, environment bytes, the logger) import none of the policy, a kernel implementation, the compat layer or an entry point',
    files: (f) => /^src\/(signal[^/]*|signals\/.*|exit-status|duration|environment|logger)\.ts$/.test(f),
    forbids: (t) => inAny([...POLICY, LINUX, SIM, 'src/compat/', ...STARTUP, ...CLI])(t),
  },
  {
    says: 'only the simulator itself and its command line (src/sim-cli.ts) load the simulator; the production path never does',
    files: (f) => !within(f, SIM) && f !== 'src/sim-cli.ts',
    forbids: (t) => within(t, SIM),
  },
  {
    says: 'only the start-up modules (boot, main, index, startup) and the backend itself load LinuxKernel and the addon',
    files: (f) => !within(f, LINUX) && !STARTUP.includes(f),
    forbids: (t) => within(t, LINUX),
  },
  {
    says: 'src/ imports nothing from the tests, the bench or the scripts',
    files: () => true,
    forbids: (t) => t.startsWith('test/') || t.startsWith('bench/') || t.startsWith('scripts/') || t.startsWith('..'),
  },
];

describe('layers (docs/architecture.md)', () => {
  it('the import parser finds every form of import, and resolves relative ones to the .ts file', () => {
    const text = [
      "import { a } from './kernel/kernel.js';",
      "import type { B } from '../signals.js';",
      "export { c } from './sim/index.js';",
      "import * as fs from 'node:fs';",
      "const m = await import('./main.js');",
      "const p = require('pino');",
      "type O = import('yargs').Options;",
      "// import { no } from './comment.js';",
      "const s = 'import x from \"./string.js\"';",
    ].join('\n');
    expect(importsOf('src/kernel/example.ts', text).map((i) => `${i.line} ${i.target} ${i.loads}`)).toEqual([
      '1 src/kernel/kernel/kernel.ts static',
      '2 src/signals.ts never',
      '3 src/kernel/sim/index.ts static',
      '4 node:fs static',
      '5 src/kernel/main.ts dynamic',
      '6 pino dynamic',
      '7 yargs never',
    ]);
    expect(importsOf('src/x.ts', "import { type A, type B } from './a.js';\nimport { type C, d } from './b.js';\nexport type { E } from './c.js';").map((i) => i.loads)).toEqual([
      'never',
      'static',
      'never',
    ]);
  });

  it('every relative import of src/ names a file that exists (so no rule misses one)', () => {
    const unresolved = imports.filter((i) => i.specifier.startsWith('.') && !existsSync(join(ROOT, i.target)));
    expect(unresolved.map((i) => `${i.file}:${i.line} ${i.specifier}`)).toEqual([]);
    // The parse found the edges every version of pidone has.
    const edges = new Set(imports.map((i) => `${i.file} -> ${i.target}`));
    expect(edges).toContain('src/init.ts -> src/kernel/kernel.ts');
    expect(edges).toContain('src/kernel/linux/linux-kernel.ts -> src/kernel/kernel.ts');
    expect(edges).toContain('src/kernel/sim/sim-kernel.ts -> src/kernel/kernel.ts');
  });

  it.each(RULES.map((rule) => [rule.says, rule] as const))('%s', (_says, rule) => {
    const files = sources.filter(rule.files);
    expect(files.length, 'the rule is about files that exist').toBeGreaterThan(0);
    const broken = imports.filter((i) => rule.files(i.file) && rule.forbids(i.target)).map((i) => `${i.file}:${i.line} imports ${i.specifier}`);
    expect(broken).toEqual([]);
  });

  it('importing the library loads neither the command line nor the simulator', () => {
    // What `import ... from 'pidone'` runs: src/index.ts and every module it loads at start.
    const loaded = loadedBy(['src/index.ts'], false);
    expect(loaded.size).toBeGreaterThan(3);
    expect([...loaded].filter((f) => ['src/main.ts', 'src/boot.ts', 'src/sim-cli.ts'].includes(f) || within(f, SIM)).sort()).toEqual([]);
  });

  it('the command line never loads the simulator, even through the imports it makes later', () => {
    const loaded = loadedBy(['src/boot.ts'], true);
    expect(loaded).toContain('src/init.ts');
    expect([...loaded].filter((f) => within(f, SIM) || f === 'src/index.ts').sort()).toEqual([]);
  });

  it('the policy gives no Linux configuration advice and reads no compat mode: LinuxKernel and the compat layer supply those', () => {
    const found: string[] = [];
    for (const file of sources.filter(inAny(POLICY))) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
      const at = (node: ts.Node) => `${file}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`;
      const visit = (node: ts.Node): void => {
        // A sysctl or a /proc/sys path in a message is Linux's business, said by LinuxKernel's error.
        if ((ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) && /sysctl|\/proc\/sys\//.test(node.text)) {
          found.push(`${at(node)} names a sysctl: ${JSON.stringify(node.text.slice(0, 60))}`);
        }
        // config.compat: the wording of tini or dumb-init comes through InitOptions, not a test of the mode.
        if (ts.isPropertyAccessExpression(node) && node.name.text === 'compat') found.push(`${at(node)} reads .compat`);
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(found).toEqual([]);
  });
});
