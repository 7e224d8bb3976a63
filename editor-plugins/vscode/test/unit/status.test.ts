import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StatusResult } from '../../src/protocol';
import { shortModelName, statusReport, statusView } from '../../src/status';

const ready: StatusResult = {
  server: { name: 'tandem-lsp', version: '0.1.0', positionEncoding: 'utf-16', documents: 2 },
  host: { address: 'unix:/tmp/h.sock', state: 'ready', queue_depth: 0, served: 10, latency_ms: { p50: 120.4, p95: 300 } },
  model: { name: '/models/CodeLlama-7b-hf', context_window: 16384, can_infill: true, chat_format: 'llama2' },
  suggestions: { requested: 12, shown: 5, accepted: 2, partiallyAccepted: 1, rejected: 2, cacheHits: 3, empty: 4, latencyMs: { p50: 80, p95: null } },
};

describe('shortModelName', () => {
  it('keeps the last path segment', () => {
    assert.equal(shortModelName('/models/CodeLlama-7b-hf/'), 'CodeLlama-7b-hf');
    assert.equal(shortModelName('codellama/CodeLlama-7b-Instruct-hf'), 'CodeLlama-7b-Instruct-hf');
    assert.equal(shortModelName('C:\\models\\tiny'), 'tiny');
  });
  it('shortens long names and handles none', () => {
    assert.equal(shortModelName('x'.repeat(40)), `${'x'.repeat(31)}…`);
    assert.equal(shortModelName(undefined), '');
    assert.equal(shortModelName('  '), '');
  });
});

describe('statusView', () => {
  it('shows the model when the host is ready', () => {
    const view = statusView(ready, 'running');
    assert.equal(view.text, '$(sparkle) CodeLlama-7b-hf');
    assert.equal(view.level, 'ok');
    assert.match(view.tooltip, /ready at unix:\/tmp\/h\.sock/);
  });
  it('shows loading progress', () => {
    const view = statusView({ host: { state: 'loading', progress: 0.42 } }, 'running');
    assert.equal(view.text, '$(loading~spin) Tandem: loading 42%');
    assert.equal(view.level, 'busy');
  });
  it('warns when the host is unreachable, with the reason in the tooltip', () => {
    const view = statusView({ host: { state: 'disconnected', error: 'connection refused' } }, 'running');
    assert.equal(view.text, '$(warning) Tandem: disconnected');
    assert.equal(view.level, 'warning');
    assert.match(view.tooltip, /connection refused/);
    assert.equal(statusView({ host: { state: 'failed' } }, 'running').level, 'error');
  });
  it('covers a server that is starting or stopped', () => {
    assert.equal(statusView(undefined, 'starting').level, 'busy');
    const stopped = statusView(ready, 'stopped', 'spawn python3 ENOENT');
    assert.equal(stopped.level, 'error');
    assert.match(stopped.tooltip, /ENOENT/);
  });
});

describe('statusReport', () => {
  it('lists server, host, model and suggestion statistics', () => {
    const report = statusReport(ready, 'running');
    assert.equal(
      report,
      [
        'Language server: running',
        '  tandem-lsp 0.1.0, 2 open document(s), positions in utf-16',
        'Model host: ready at unix:/tmp/h.sock',
        '  served 10 request(s), queue depth 0, latency p50 120 ms, p95 300 ms',
        'Model: /models/CodeLlama-7b-hf (16384-token window, fill-in-the-middle, chat format llama2)',
        'Suggestions: 12 requested, 5 shown, 2 accepted, 1 partly accepted, 2 rejected, 4 empty, 3 from cache',
        '  latency p50 80 ms, p95 –',
      ].join('\n'),
    );
  });
  it('works without a status', () => {
    assert.equal(statusReport(undefined, 'stopped', 'boom'), 'Language server: stopped (boom)');
  });
});

describe('statusReport names the host log and ignored settings', () => {
  it('lists them', () => {
    const report = statusReport(
      { ...ready, server: { ...ready.server, settingsProblems: ['tandem.completion.temperature: expected a number'] }, host: { ...ready.host, logFile: '/run/t/host.log' } },
      'running',
    );
    assert.match(report, /\n {2}log: \/run\/t\/host\.log/);
    assert.match(report, /setting ignored: tandem\.completion\.temperature/);
  });
});
