/** Settings (`tandem.*`) -> how to launch the server and what to send it as initializationOptions. Pure: no `vscode` import. */
import * as os from 'node:os';
import * as path from 'node:path';

export const SECTION = 'tandem';

/** Settings the extension itself uses; the server never sees them. */
export const CLIENT_ONLY_KEYS: readonly string[] = ['pythonPath', 'serverArgs', 'trace'];

/** Client-only settings inside a server section (`completion.disableInFiles`). */
export const CLIENT_ONLY_NESTED: Readonly<Record<string, readonly string[]>> = { completion: ['disableInFiles'] };

/** Changing one of these needs a new server process. */
export const RESTART_KEYS: readonly string[] = ['pythonPath', 'serverArgs'];

export const DEFAULT_PYTHON = 'python3';

export interface ServerLaunch {
  command: string;
  args: string[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `~` and `${workspaceFolder}` (the first folder, when there is one) expanded in a path setting. */
export function expandPath(value: string, workspaceFolder?: string, home: string = os.homedir()): string {
  let out = value.trim();
  if (workspaceFolder !== undefined) {
    out = out.replaceAll('${workspaceFolder}', workspaceFolder);
  }
  if (out === '~') {
    return home;
  }
  if (out.startsWith('~/')) {
    return path.join(home, out.slice(2));
  }
  return out;
}

/** `<pythonPath> -m lsp_server <serverArgs...>` from the `tandem` settings object. */
export function serverLaunch(settings: unknown, workspaceFolder?: string): ServerLaunch {
  const raw = isObject(settings) ? settings : {};
  const python = typeof raw.pythonPath === 'string' && raw.pythonPath.trim() !== '' ? raw.pythonPath : DEFAULT_PYTHON;
  const extra = Array.isArray(raw.serverArgs) ? raw.serverArgs.filter((a): a is string => typeof a === 'string') : [];
  return { command: expandPath(python, workspaceFolder), args: ['-m', 'lsp_server', ...extra] };
}

/** A JSON copy of a settings value with nulls, undefined and functions left out (the server keeps its defaults for them). */
function plain(value: unknown): Json | undefined {
  if (value === null || value === undefined || typeof value === 'function') {
    return undefined;
  }
  if (Array.isArray(value)) {
    return value.map(plain).filter((v): v is Json => v !== undefined);
  }
  if (isObject(value)) {
    const out: { [key: string]: Json } = {};
    for (const [key, inner] of Object.entries(value)) {
      const copied = plain(inner);
      if (copied !== undefined) {
        out[key] = copied;
      }
    }
    return out;
  }
  if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') {
    return value;
  }
  return undefined;
}

/**
 * The server's settings (camelCase, as in docs/lsp.md and the README) from the `tandem`
 * settings object: client-only keys and unset (null) values dropped, `host.python`
 * path-expanded.
 */
export function toInitializationOptions(settings: unknown, workspaceFolder?: string): { [key: string]: Json } {
  const copied = plain(settings);
  if (!isObject(copied)) {
    return {};
  }
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(copied)) {
    if (CLIENT_ONLY_KEYS.includes(key)) {
      continue;
    }
    const nested = CLIENT_ONLY_NESTED[key];
    if (nested !== undefined && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).filter(([inner]) => !nested.includes(inner)));
    } else {
      out[key] = value;
    }
  }
  const host = out.host;
  if (isObject(host) && typeof host.python === 'string' && host.python !== '') {
    out.host = { ...host, python: expandPath(host.python, workspaceFolder) };
  }
  return out;
}
