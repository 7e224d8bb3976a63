/** Tandem's own LSP methods, commands and payload shapes: the client side of docs/lsp.md (mirrors lsp_server/protocol.py). */

export const Methods = {
  /** request, client -> server: ChatParams -> ChatResult */
  chat: 'tandem/chat',
  /** request, client -> server: null -> StatusResult */
  status: 'tandem/status',
  /** request, client -> server: EditParams -> EditResult (a proposal; nothing is applied) */
  edit: 'tandem/edit',
  /** notification, server -> client: ChatChunk */
  chatChunk: 'tandem/chatChunk',
  /** notification, server -> client: EditChunk (the raw model text of an edit, as it comes) */
  editChunk: 'tandem/editChunk',
  /** notification, client -> server: SuggestionEvent */
  suggestionEvent: 'tandem/suggestionEvent',
} as const;

/** `workspace/executeCommand` commands the server offers (they are also VS Code command ids). */
export const ServerCommands = {
  explain: 'tandem.explain',
  document: 'tandem.document',
  fix: 'tandem.fix',
  writeTests: 'tandem.writeTests',
  didAccept: 'tandem.didAccept',
  status: 'tandem.status',
  /** The code actions' command: EditCommandArgs; runs an edit and applies it (workspace/applyEdit). */
  edit: 'tandem.edit',
} as const;

/** JSON-RPC error codes of `tandem/edit` (and `tandem.edit`). */
export const EditErrorCodes = {
  invalidParams: -32602,
  requestCancelled: -32800,
  contentModified: -32801,
  /** The loaded checkpoint cannot follow instructions (a base or Python Code Llama). */
  cannotChat: -32001,
} as const;

export type SelectionCommand =
  | typeof ServerCommands.explain
  | typeof ServerCommands.document
  | typeof ServerCommands.fix
  | typeof ServerCommands.writeTests;

export const SELECTION_COMMANDS: readonly SelectionCommand[] = [
  ServerCommands.explain,
  ServerCommands.document,
  ServerCommands.fix,
  ServerCommands.writeTests,
];

export function isSelectionCommand(command: string): command is SelectionCommand {
  return (SELECTION_COMMANDS as readonly string[]).includes(command);
}

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface ChatContext {
  uri: string;
  /** No range = the whole file. */
  range?: Range;
}

export interface ChatParams {
  messages: ChatMessage[];
  context?: ChatContext;
  chatId?: string;
  maxTokens?: number;
}

export interface ChatChunk {
  chatId: string;
  text: string;
  index: number;
}

export interface ChatResult {
  chatId: string;
  text: string;
  finishReason: string;
  promptTokens: number;
  generatedTokens: number;
  timings: Partial<Record<'queue_ms' | 'first_token_ms' | 'total_ms' | 'tokens_per_s', number>>;
  /** Other files' definitions sent along with the code (cross-file context). */
  definitions?: { path: string; text: string }[];
}

/** The one argument of a selection command. */
export interface SelectionCommandArgs {
  uri: string;
  range?: Range;
  chatId?: string;
}

export interface LatencySummary {
  p50?: number | null;
  p95?: number | null;
}

export interface StatusResult {
  server?: { name?: string; version?: string; positionEncoding?: string; documents?: number; settingsProblems?: string[] };
  host?: {
    address?: string;
    state?: string;
    error?: string;
    queue_depth?: number;
    served?: number;
    progress?: number;
    /** An auto-started host's log file (next to its socket). */
    logFile?: string;
    latency_ms?: LatencySummary;
    [key: string]: unknown;
  };
  model?: { name?: string; context_window?: number; can_infill?: boolean; chat_format?: string; [key: string]: unknown } | null;
  suggestions?: {
    requested?: number;
    shown?: number;
    accepted?: number;
    partiallyAccepted?: number;
    rejected?: number;
    cacheHits?: number;
    empty?: number;
    latencyMs?: LatencySummary;
  };
}

export type SuggestionEventKind = 'shown' | 'accepted' | 'partiallyAccepted' | 'rejected';

export interface SuggestionEvent {
  id: string;
  kind: SuggestionEventKind;
}

export interface EditParams {
  textDocument: { uri: string };
  range: Range;
  /** Non-empty, at most 2,000 characters. */
  instruction: string;
  /** The document version the client saw: a mismatch is `contentModified`. */
  version?: number;
  editId?: string;
  stream?: boolean;
}

export interface TextEdit {
  range: Range;
  newText: string;
}

export interface EditResult {
  editId: string;
  uri: string;
  version: number;
  /** The range rewritten (the selection widened to whole lines). */
  range: Range;
  newText: string;
  /** Minimal edits (a line diff), in document order; empty when nothing changes. */
  edits: TextEdit[];
  edit: { changes: Record<string, TextEdit[]> };
  finishReason: string;
  promptTokens: number;
  generatedTokens: number;
}

export interface EditChunk {
  editId: string;
  text: string;
  index: number;
}

export type EditPreset = 'fix' | 'document' | 'tests';

/** The one argument of the `tandem.edit` command the code actions carry. */
export interface EditCommandArgs {
  uri: string;
  range: Range;
  instruction?: string;
  preset?: EditPreset;
  diagnostics?: unknown[];
}
