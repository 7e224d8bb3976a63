/** Finding (or making) a Python environment with Tandem installed. Node only: no `vscode` import. */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Prints Tandem's version if this interpreter can run the language server. */
const PROBE = 'import lsp_server, model_host; print(lsp_server.__version__)';

export interface PythonCandidate {
  path: string;
  /** Where it was found, for people: "workspace .venv", "PATH", ... */
  source: string;
}

export type ProbeResult = { ok: true; version: string } | { ok: false; error: string };

/** The interpreter inside a virtual environment folder. */
export function venvPython(dir: string, platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? path.join(dir, 'Scripts', 'python.exe') : path.join(dir, 'bin', 'python');
}

/**
 * Where Tandem may be installed, most specific first: virtual environments in the workspace
 * folders, the environment this extension creates (`managedVenv`), then `python3` / `python`
 * from PATH. Only existing files are listed, except the PATH commands.
 */
export function candidatePythons(folders: readonly string[], managedVenv: string, platform: NodeJS.Platform = process.platform): PythonCandidate[] {
  const out: PythonCandidate[] = [];
  for (const folder of folders) {
    for (const name of ['.venv', 'venv', 'env']) {
      const python = venvPython(path.join(folder, name), platform);
      if (existsSync(python)) {
        out.push({ path: python, source: `workspace ${name}` });
      }
    }
  }
  const managed = venvPython(managedVenv, platform);
  if (existsSync(managed)) {
    out.push({ path: managed, source: "Tandem's own environment" });
  }
  for (const command of platform === 'win32' ? ['python', 'py'] : ['python3', 'python']) {
    out.push({ path: command, source: 'PATH' });
  }
  return out;
}

/** Can `python` run Tandem's language server? (`import lsp_server`, in a neutral folder.) */
export function probePython(python: string, timeoutMs = 20_000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    // From a neutral folder: a Tandem checkout in the cwd must not make a bare python look ready.
    execFile(python, ['-c', PROBE], { timeout: timeoutMs, cwd: os.tmpdir() }, (error, stdout, stderr) => {
      if (error) {
        const last = `${stderr}`.trim().split('\n').pop() ?? '';
        resolve({ ok: false, error: last || error.message });
      } else {
        resolve({ ok: true, version: `${stdout}`.trim() });
      }
    });
  });
}

/** The first candidate that can run Tandem, with its version; undefined when none can. */
export async function findPython(candidates: readonly PythonCandidate[]): Promise<(PythonCandidate & { version: string }) | undefined> {
  for (const candidate of candidates) {
    const probe = await probePython(candidate.path);
    if (probe.ok) {
      return { ...candidate, version: probe.version };
    }
  }
  return undefined;
}

/** Does `folder` hold a Tandem checkout (its pyproject names the `tandem-assist` project)? */
export function isTandemCheckout(folder: string): boolean {
  try {
    return /^name\s*=\s*"tandem-assist"/m.test(readFileSync(path.join(folder, 'pyproject.toml'), 'utf8'));
  } catch {
    return false;
  }
}

export interface Step {
  title: string;
  command: string;
  args: string[];
}

/** The commands that make a new environment at `venvDir` with Tandem from `source` installed. */
export function createSteps(basePython: string, venvDir: string, source: string, platform: NodeJS.Platform = process.platform): Step[] {
  const python = venvPython(venvDir, platform);
  return [
    { title: `creating a virtual environment in ${venvDir}`, command: basePython, args: ['-m', 'venv', venvDir] },
    { title: 'updating pip', command: python, args: ['-m', 'pip', 'install', '--upgrade', 'pip'] },
    // `[local]`: the in-process engine (torch), which an auto-started host needs.
    { title: `installing Tandem from ${source} (with torch: this takes a while)`, command: python, args: ['-m', 'pip', 'install', `${source}[local]`] },
  ];
}
