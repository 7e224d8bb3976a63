import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { expandPath, serverLaunch, toInitializationOptions } from '../../src/settings';

/** The plugin folder (this file runs from out/test/unit/). */
const PLUGIN = path.resolve(__dirname, '..', '..', '..');
const SERVER_CONFIG = path.resolve(PLUGIN, '..', '..', 'lsp_server', 'config.py');

interface Property {
  type: string | string[];
  default: unknown;
}
const manifest = JSON.parse(readFileSync(path.join(PLUGIN, 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, Property> } };
};
const properties = manifest.contributes.configuration.properties;

describe('serverLaunch', () => {
  it('runs `python3 -m lsp_server` by default', () => {
    assert.deepEqual(serverLaunch({}), { command: 'python3', args: ['-m', 'lsp_server'] });
    assert.deepEqual(serverLaunch(undefined), { command: 'python3', args: ['-m', 'lsp_server'] });
    assert.deepEqual(serverLaunch({ pythonPath: '  ' }), { command: 'python3', args: ['-m', 'lsp_server'] });
  });

  it('uses pythonPath and appends serverArgs', () => {
    assert.deepEqual(serverLaunch({ pythonPath: '${workspaceFolder}/.venv/bin/python', serverArgs: ['--log-file', '/tmp/l', 3] }, '/ws'), {
      command: '/ws/.venv/bin/python',
      args: ['-m', 'lsp_server', '--log-file', '/tmp/l'],
    });
  });
});

describe('expandPath', () => {
  it('expands ~ and ${workspaceFolder}', () => {
    assert.equal(expandPath('~/venv/bin/python', undefined, '/home/u'), path.join('/home/u', 'venv/bin/python'));
    assert.equal(expandPath('~', undefined, '/home/u'), '/home/u');
    assert.equal(expandPath('${workspaceFolder}/x', '/ws'), '/ws/x');
    assert.equal(expandPath('${workspaceFolder}/x'), '${workspaceFolder}/x');
    assert.equal(expandPath(' /usr/bin/python3 '), '/usr/bin/python3');
  });
});

describe('toInitializationOptions', () => {
  it('drops client-only keys and unset values, keeps the nesting', () => {
    const options = toInitializationOptions({
      pythonPath: '/v/bin/python',
      serverArgs: [],
      trace: { server: 'verbose' },
      logLevel: 'debug',
      host: { address: null, model: '/m', autoStart: true, args: ['--dtype', 'fp16'], python: '' },
      completion: { enable: true, debounceMs: 75, topP: 0.95, disableInFiles: ['*.env'] },
      chat: { systemPrompt: 'Be brief.' },
      get: () => 1,
    });
    assert.deepEqual(options, {
      logLevel: 'debug',
      host: { model: '/m', autoStart: true, args: ['--dtype', 'fp16'], python: '' },
      completion: { enable: true, debounceMs: 75, topP: 0.95 },
      chat: { systemPrompt: 'Be brief.' },
    });
  });

  it('expands host.python', () => {
    assert.deepEqual(toInitializationOptions({ host: { python: '${workspaceFolder}/py' } }, '/ws'), { host: { python: '/ws/py' } });
  });

  it('is empty for anything but an object', () => {
    assert.deepEqual(toInitializationOptions(null), {});
    assert.deepEqual(toInitializationOptions([1]), {});
    assert.deepEqual(toInitializationOptions('x'), {});
  });

  it('maps the contributed defaults to a valid server settings object', () => {
    const defaults: Record<string, unknown> = {};
    for (const [key, property] of Object.entries(properties)) {
      const parts = key.split('.').slice(1);
      let target = defaults;
      for (const part of parts.slice(0, -1)) {
        target = (target[part] ??= {}) as Record<string, unknown>;
      }
      target[parts[parts.length - 1] ?? ''] = property.default;
    }
    const options = toInitializationOptions(defaults);
    assert.deepEqual(Object.keys(options).sort(), ['chat', 'completion', 'context', 'host', 'logLevel']);
    assert.equal((options.host as Record<string, unknown>).address, undefined, 'an unset address leaves the server default');
  });
});

/** `tandem.<section>.<camelCase>` -> default, as declared in lsp_server/config.py's dataclasses. */
function serverSettings(source: string): Map<string, unknown> {
  const sections: Record<string, string> = {
    HostSettings: 'host',
    CompletionSettings: 'completion',
    ChatSettings: 'chat',
    CrossFileSettings: 'context.crossFile',
    Settings: '',
  };
  const out = new Map<string, unknown>();
  let section: string | undefined;
  for (const line of source.split('\n')) {
    const cls = /^class (\w+)/.exec(line);
    if (cls) {
      section = sections[cls[1] ?? ''];
      continue;
    }
    if (/^\S/.test(line)) {
      section = undefined; // the class body ended
      continue;
    }
    const field = /^ {4}(\w+): ([\w[\], |]+?)(?: = (.*))?$/.exec(line);
    if (section === undefined || !field) {
      continue;
    }
    const [, name = '', type = '', value = ''] = field;
    if (/Settings$/.test(type)) {
      continue; // a nested section
    }
    const camel = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    let parsed: unknown = Symbol('not a literal');
    if (/^-?\d[\d_]*(\.\d+)?$/.test(value)) {
      parsed = Number(value.replaceAll('_', ''));
    } else if (value === 'True' || value === 'False') {
      parsed = value === 'True';
    } else if (/^"[^"\\]*"$/.test(value)) {
      parsed = value.slice(1, -1);
    } else if (value === 'field(default_factory=list)') {
      parsed = [];
    }
    out.set(`tandem.${section ? `${section}.` : ''}${camel}`, parsed);
  }
  return out;
}

describe('package.json settings mirror lsp_server/config.py', { skip: !existsSync(SERVER_CONFIG) && 'lsp_server/config.py not found' }, () => {
  it('contributes every server setting, with the same default', () => {
    const server = serverSettings(readFileSync(SERVER_CONFIG, 'utf8'));
    assert.ok(server.size > 10, 'parsed the server settings');
    for (const [key, value] of server) {
      assert.ok(key in properties, `${key} is not contributed in package.json`);
      if (typeof value !== 'symbol') {
        assert.deepEqual(properties[key]?.default, value, `default of ${key}`);
      }
    }
  });

  it('contributes nothing the server does not know, except the client-only settings', () => {
    const server = serverSettings(readFileSync(SERVER_CONFIG, 'utf8'));
    const clientOnly = ['tandem.pythonPath', 'tandem.serverArgs', 'tandem.trace.server', 'tandem.completion.disableInFiles'];
    for (const key of Object.keys(properties)) {
      assert.ok(server.has(key) || clientOnly.includes(key), `${key} is not a server setting`);
    }
  });
});
