// The e2e tools in test/e2e/node_modules: Node 24 (npm `node`), code-server (real VS Code) and playwright-core.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { run } from './procs.mjs';

const HERE = import.meta.dirname;
const MODULES = path.join(HERE, 'node_modules');
const NODE24_DIR = path.join(MODULES, 'node', 'node_modules', `node-${process.platform}-${process.arch}`);
export const NODE24 = path.join(NODE24_DIR, 'bin', 'node');
export const CODE_SERVER = path.join(MODULES, 'code-server', 'out', 'node', 'entry.js');
const CODE_SERVER_DEPS = path.join(MODULES, 'code-server', 'lib', 'vscode', 'node_modules');

/**
 * Installs the tools from test/e2e/package-lock.json when they are missing (once, ~3 minutes).
 *
 * code-server's postinstall insists on running under Node 24 and builds native modules
 * against it, so: install everything without scripts, run the `node` package's script (it
 * fetches Node 24 from npm), then rebuild code-server with that Node first on PATH and its
 * headers as nodedir. Building needs g++, make, python3 and libkrb5-dev (see README).
 */
export async function ensureTools(log) {
  if (existsSync(NODE24) && existsSync(CODE_SERVER_DEPS) && existsSync(path.join(MODULES, 'playwright-core'))) {
    return;
  }
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  log('installing e2e tools (code-server, Node 24, playwright-core) into test/e2e/node_modules…');
  // Under `npm run`, npm_* variables describe the outer npm (its Node among them, which
  // code-server's postinstall checks): the inner installs must not inherit them.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  await run(npm, ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: HERE, env: clean });
  await run(npm, ['rebuild', 'node'], { cwd: HERE, env: clean });
  const env = {
    ...clean,
    PATH: `${path.dirname(NODE24)}${path.delimiter}${clean.PATH ?? ''}`,
    npm_config_nodedir: NODE24_DIR,
  };
  await run(npm, ['rebuild', 'code-server'], { cwd: HERE, env });
  if (!existsSync(CODE_SERVER_DEPS)) {
    throw new Error('code-server did not install its VS Code dependencies');
  }
}
