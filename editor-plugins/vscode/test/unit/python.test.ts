import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { candidatePythons, createSteps, findPython, isTandemCheckout, probePython, venvPython } from '../../src/python';

const REPO = path.resolve(__dirname, '..', '..', '..', '..', '..');
const TANDEM_PYTHON = process.env.TANDEM_PYTHON ?? path.join(REPO, '.venv', 'bin', 'python');

/** A fake interpreter: a script that runs `target` (what a venv's bin/python amounts to). */
function fakePython(dir: string, target: string): string {
  const file = venvPython(dir, 'linux');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\nexec "${target}" "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('candidatePythons', () => {
  it('lists workspace venvs first, then ours, then PATH', () => {
    const ws = mkdtempSync(path.join(os.tmpdir(), 'tdm-ws-'));
    const managed = mkdtempSync(path.join(os.tmpdir(), 'tdm-venv-'));
    const venv = fakePython(path.join(ws, '.venv'), '/bin/false');
    const ours = fakePython(managed, '/bin/false');
    const found = candidatePythons([ws, path.join(ws, 'missing')], managed, 'linux');
    assert.deepEqual(found, [
      { path: venv, source: 'workspace .venv' },
      { path: ours, source: "Tandem's own environment" },
      { path: 'python3', source: 'PATH' },
      { path: 'python', source: 'PATH' },
    ]);
  });
  it('knows Windows layouts', () => {
    assert.equal(venvPython('C:\\v', 'win32'), path.join('C:\\v', 'Scripts', 'python.exe'));
    assert.deepEqual(candidatePythons([], '/nowhere', 'win32').map((c) => c.path), ['python', 'py']);
  });
});

describe('probePython / findPython', { skip: process.platform === 'win32' && 'POSIX shell scripts' }, () => {
  it('says why an interpreter cannot run Tandem', async () => {
    const probe = await probePython('/bin/false');
    assert.equal(probe.ok, false);
    const missing = await probePython('/no/such/python');
    assert.equal(missing.ok, false);
  });
  it('finds the first environment where Tandem imports', { skip: !existsSync(TANDEM_PYTHON) && 'no Tandem venv' }, async () => {
    const ws = mkdtempSync(path.join(os.tmpdir(), 'tdm-ws-'));
    const good = fakePython(path.join(ws, 'venv'), TANDEM_PYTHON);
    const found = await findPython([{ path: '/bin/false', source: 'PATH' }, { path: good, source: 'workspace venv' }]);
    assert.equal(found?.path, good);
    assert.match(found?.version ?? '', /^\d+\.\d+/);
  });
});

describe('creating an environment', () => {
  it('recognises a Tandem checkout', () => {
    assert.equal(isTandemCheckout(REPO), true);
    assert.equal(isTandemCheckout(os.tmpdir()), false);
  });
  it('makes a venv, updates pip, installs the checkout into it', () => {
    const steps = createSteps('python3', '/s/venv', '/src/tandem', 'linux');
    assert.deepEqual(steps.map((s) => [s.command, ...s.args]), [
      ['python3', '-m', 'venv', '/s/venv'],
      ['/s/venv/bin/python', '-m', 'pip', 'install', '--upgrade', 'pip'],
      ['/s/venv/bin/python', '-m', 'pip', 'install', '/src/tandem[local]'],
    ]);
  });
});
