/** `tandem.completion.disableInFiles`: glob patterns for files that get no ghost text. Pure: no `vscode` import. */

const SPECIAL = /[.+^$(){}|[\]\\]/g;

/**
 * A glob as a RegExp over `/`-separated paths: `*` and `?` stay inside one path segment,
 * `**` spans segments (`**` + `/` also matches no segment at all), `{a,b}` is either, `[abc]`
 * (or `[!abc]`) one character of a set.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i += 1;
        if (glob[i + 1] === '/') {
          i += 1;
          re += '(?:.*/)?';
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '{') {
      depth += 1;
      re += '(?:';
    } else if (c === '}' && depth > 0) {
      depth -= 1;
      re += ')';
    } else if (c === ',' && depth > 0) {
      re += '|';
    } else if (c === '[' && glob.indexOf(']', i + 2) > 0) {
      const end = glob.indexOf(']', i + 2);
      const body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
      re += body.startsWith('!') ? `[^${body.slice(1)}]` : `[${body}]`;
      i = end;
    } else {
      re += c.replace(SPECIAL, '\\$&');
    }
  }
  return new RegExp(`^${re}${')'.repeat(depth)}$`);
}

export interface FilePaths {
  /** The path relative to its workspace folder, when it is in one. */
  relative?: string;
  absolute: string;
}

function slashes(p: string): string {
  return p.replace(/\\/g, '/');
}

/**
 * The first of `globs` that matches the file, or undefined. A glob without `/` matches the
 * file's name wherever it is (`*.env`); one with `/` matches its workspace-relative path
 * (`secrets/**`) or its absolute path (`/etc/**`).
 */
export function disabledBy(globs: readonly unknown[], file: FilePaths): string | undefined {
  const absolute = slashes(file.absolute);
  const name = absolute.slice(absolute.lastIndexOf('/') + 1);
  const relative = file.relative !== undefined ? slashes(file.relative) : undefined;
  for (const glob of globs) {
    if (typeof glob !== 'string' || glob.trim() === '') {
      continue;
    }
    const pattern = slashes(glob.trim());
    const re = globToRegExp(pattern);
    const hit = pattern.includes('/') ? (relative !== undefined && re.test(relative)) || re.test(absolute) : re.test(name);
    if (hit) {
      return glob;
    }
  }
  return undefined;
}
