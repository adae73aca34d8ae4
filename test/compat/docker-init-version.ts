/**
 * How `docker info` reads the init's version: the daemon runs `docker-init --version`
 * and parses its stdout. Written here from the behaviour of dockerd (the function it
 * calls parseInitVersion), in two variants that have both shipped:
 * - current: split on " - "; a second part "git.HASH" gives the commit; a first part
 *   "tini version X" (trimmed) gives the version; neither is an error.
 * - older (docker 17-19): the same on the whole output trimmed, but the version is
 *   only used when there is no commit, and the commit's length is used to slice the
 *   expected commit id (a commit longer than that id made the daemon panic).
 */

export interface InitVersion {
  readonly version: string;
  readonly commit: string;
}

/** The current parser. Throws on output docker would reject ("unknown output format"). */
export function parseDockerInitVersion(output: string): InitVersion {
  const parts = output.split(' - ');
  let commit = '';
  let version = '';
  if (parts.length >= 2) {
    const git = parts[1]!.trim().split('.');
    if (git.length === 2 && git[0] === 'git') commit = git[1]!;
  }
  const head = parts[0]!.trim();
  if (head.startsWith('tini version ')) version = head.slice('tini version '.length);
  if (version === '' && commit === '') throw new Error(`unknown output format: ${output}`);
  return { version, commit };
}

/** The older parser: the id docker info shows ("v0.19.0" or a commit). `expectedCommit` is docker's build-time init commit. */
export function parseDockerInitVersionOld(output: string, expectedCommit = 'de40ad0'): string {
  const parts = output.trim().split(' - ');
  let id = '';
  if (parts.length >= 2) {
    const git = parts[1]!.split('.');
    if (git.length === 2 && git[0] === 'git') {
      id = git[1]!;
      // Go's expected[0:len(id)] panics when id is the longer.
      if (id.length > expectedCommit.length) throw new Error('docker would panic: slice bounds out of range');
    }
  }
  if (id === '' && parts[0]!.startsWith('tini version ')) id = `v${parts[0]!.slice('tini version '.length)}`;
  if (id === '') throw new Error(`unknown output format: ${output}`);
  return id;
}
