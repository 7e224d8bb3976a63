/** `tandem/status` -> status-bar text, tooltip and a readable report. Pure: no `vscode` import. */
import type { LatencySummary, StatusResult } from './protocol';

export type StatusLevel = 'ok' | 'busy' | 'warning' | 'error';

export interface StatusView {
  /** Status-bar text, with a `$(codicon)` prefix. */
  text: string;
  tooltip: string;
  level: StatusLevel;
}

const MAX_MODEL_CHARS = 32;

/** The last path segment of a model name or folder, shortened for the status bar. */
export function shortModelName(name: string | undefined): string {
  if (name === undefined || name.trim() === '') {
    return '';
  }
  const parts = name.trim().split(/[\\/]/).filter((p) => p !== '');
  const last = parts.length > 0 ? (parts[parts.length - 1] ?? name) : name;
  return last.length > MAX_MODEL_CHARS ? `${last.slice(0, MAX_MODEL_CHARS - 1)}…` : last;
}

function ms(value: number | null | undefined): string {
  return typeof value === 'number' && Number.isFinite(value) ? `${Math.round(value)} ms` : '–';
}

function latency(summary: LatencySummary | undefined): string {
  return `p50 ${ms(summary?.p50)}, p95 ${ms(summary?.p95)}`;
}

/** What the status bar shows: the server is not running / the host's state / the model's name. */
export function statusView(status: StatusResult | undefined, serverState: 'starting' | 'running' | 'stopped', error?: string): StatusView {
  if (serverState === 'stopped') {
    return {
      text: '$(error) Tandem',
      tooltip: `Tandem language server is not running${error ? `: ${error}` : ''}. Click for details.`,
      level: 'error',
    };
  }
  if (serverState === 'starting' || status === undefined) {
    return { text: '$(loading~spin) Tandem', tooltip: 'Tandem: starting the language server…', level: 'busy' };
  }
  const host = status.host ?? {};
  const state = host.state ?? 'unknown';
  const model = shortModelName(status.model?.name);
  const where = host.address ? ` at ${host.address}` : '';
  switch (state) {
    case 'ready':
      return {
        text: `$(sparkle) ${model || 'Tandem'}`,
        tooltip: `Tandem: model host ready${where}${model ? ` · ${status.model?.name ?? model}` : ''}. Click for details.`,
        level: 'ok',
      };
    case 'loading':
    case 'starting': {
      const pct = typeof host.progress === 'number' ? ` ${Math.round(host.progress * 100)}%` : '';
      return {
        text: `$(loading~spin) Tandem: ${state}${pct}`,
        tooltip: `Tandem: model host ${state}${where}${model ? ` · ${model}` : ''}.`,
        level: 'busy',
      };
    }
    case 'failed':
    case 'disconnected':
    case 'stopping':
    default: {
      const why = host.error ? `: ${host.error}` : '';
      return {
        text: `$(warning) Tandem: ${state}`,
        tooltip: `Tandem: model host ${state}${where}${why}. Click for details.`,
        level: state === 'failed' ? 'error' : 'warning',
      };
    }
  }
}

/** A multi-line report of everything in a status answer, for the "Show Status" command. */
export function statusReport(status: StatusResult | undefined, serverState: string, error?: string): string {
  const lines: string[] = [];
  lines.push(`Language server: ${serverState}${error ? ` (${error})` : ''}`);
  if (status === undefined) {
    return lines.join('\n');
  }
  const server = status.server ?? {};
  if (server.version !== undefined) {
    lines.push(`  ${server.name ?? 'tandem-lsp'} ${server.version}, ${server.documents ?? 0} open document(s), positions in ${server.positionEncoding ?? '?'}`);
  }
  for (const problem of server.settingsProblems ?? []) {
    lines.push(`  setting ignored: ${problem}`);
  }
  const host = status.host ?? {};
  lines.push(`Model host: ${host.state ?? 'unknown'}${host.address ? ` at ${host.address}` : ''}`);
  if (host.error) {
    lines.push(`  error: ${host.error}`);
  }
  if (typeof host.logFile === 'string') {
    lines.push(`  log: ${host.logFile}`);
  }
  if (host.served !== undefined || host.queue_depth !== undefined) {
    lines.push(`  served ${host.served ?? 0} request(s), queue depth ${host.queue_depth ?? 0}, latency ${latency(host.latency_ms)}`);
  }
  const model = status.model;
  if (model?.name) {
    const traits = [
      model.context_window !== undefined ? `${model.context_window}-token window` : undefined,
      model.can_infill === true ? 'fill-in-the-middle' : model.can_infill === false ? 'no infill' : undefined,
      model.chat_format ? `chat format ${model.chat_format}` : undefined,
    ].filter((t): t is string => t !== undefined);
    lines.push(`Model: ${model.name}${traits.length > 0 ? ` (${traits.join(', ')})` : ''}`);
  }
  const s = status.suggestions;
  if (s) {
    lines.push(
      `Suggestions: ${s.requested ?? 0} requested, ${s.shown ?? 0} shown, ${s.accepted ?? 0} accepted, ` +
        `${s.partiallyAccepted ?? 0} partly accepted, ${s.rejected ?? 0} rejected, ${s.empty ?? 0} empty, ${s.cacheHits ?? 0} from cache`,
    );
    lines.push(`  latency ${latency(s.latencyMs)}`);
  }
  return lines.join('\n');
}
