/** Owns the tandem-lsp process: builds the LanguageClient from settings, starts, restarts and stops it. */
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  State,
  type LanguageClientOptions,
  type Middleware,
  type ServerOptions,
  type StaticFeature,
} from 'vscode-languageclient/node';
import { Methods, type ChatChunk, type EditChunk } from './protocol';
import { SECTION, serverLaunch, toInitializationOptions } from './settings';

export type ServerState = 'starting' | 'running' | 'stopped';

/** The `tandem` settings as a plain JSON object. */
export function tandemSettings(): unknown {
  return JSON.parse(JSON.stringify(vscode.workspace.getConfiguration(SECTION))) as unknown;
}

function workspaceFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** What the server sees as its settings, on start and on every change. */
export function serverSettings(): ReturnType<typeof toInitializationOptions> {
  return toInitializationOptions(tandemSettings(), workspaceFolder());
}

/**
 * Tells the server that this client asks the user for an edit's instruction
 * (`experimental.tandem.editInput`), so it offers the "Tandem: Edit…" code action.
 */
export const editInputFeature: StaticFeature = {
  fillClientCapabilities(capabilities): void {
    const experimental = (capabilities.experimental ?? {}) as Record<string, unknown>;
    capabilities.experimental = { ...experimental, tandem: { ...(experimental.tandem as object | undefined), editInput: true } };
  },
  initialize(): void {},
  getState: () => ({ kind: 'static' }),
  clear(): void {},
};

export class TandemServer implements vscode.Disposable {
  private current: LanguageClient | undefined;
  private stateValue: ServerState = 'stopped';
  private lastError: string | undefined;
  /** Starts and stops run one after another (a settings change can meet a restart command). */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  private readonly chunkEmitter = new vscode.EventEmitter<ChatChunk>();
  private readonly editChunkEmitter = new vscode.EventEmitter<EditChunk>();

  /** Fires when the server starts, stops or fails. */
  readonly onDidChangeState = this.stateEmitter.event;
  /** Streamed chat text (`tandem/chatChunk`). */
  readonly onChatChunk = this.chunkEmitter.event;
  /** Streamed edit text (`tandem/editChunk`). */
  readonly onEditChunk = this.editChunkEmitter.event;

  constructor(
    private readonly output: vscode.LogOutputChannel,
    private readonly middleware: Middleware,
    /** An interpreter found for the server when `tandem.pythonPath` is not set (undefined: the setting). */
    private readonly findPython: () => Promise<string | undefined> = () => Promise.resolve(undefined),
  ) {}

  get client(): LanguageClient | undefined {
    return this.current?.state === State.Running ? this.current : undefined;
  }

  get state(): ServerState {
    return this.stateValue;
  }

  get error(): string | undefined {
    return this.lastError;
  }

  /** A new server process with the current settings (a changed `tandem.pythonPath` takes effect here). */
  start(): Promise<void> {
    return this.serialize(() => this.restart());
  }

  stop(): Promise<void> {
    return this.serialize(() => this.shutdown());
  }

  private serialize(task: () => Promise<void>): Promise<void> {
    const next = this.queue.then(task, task);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async restart(): Promise<void> {
    await this.shutdown();
    const found = await this.findPython();
    const settings = tandemSettings() as Record<string, unknown>;
    const launch = serverLaunch(found !== undefined ? { ...settings, pythonPath: found } : settings, workspaceFolder());
    const folder = workspaceFolder();
    const serverOptions: ServerOptions = {
      command: launch.command,
      args: launch.args,
      options: { ...(folder !== undefined ? { cwd: folder } : {}), env: { ...process.env, PYTHONUNBUFFERED: '1' } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      synchronize: { configurationSection: SECTION },
      initializationOptions: () => serverSettings(),
      outputChannel: this.output,
      traceOutputChannel: this.output,
      middleware: {
        ...this.middleware,
        workspace: {
          ...this.middleware.workspace,
          // Send the same cleaned settings as initializationOptions (no client-only keys, no nulls).
          // Only to a running server: sending to one being replaced would start it again.
          didChangeConfiguration: async () => {
            const running = this.client;
            if (running === undefined) {
              return;
            }
            try {
              await running.sendNotification(DidChangeConfigurationNotification.type, {
                settings: { [SECTION]: serverSettings() },
              });
            } catch (error) {
              this.output.warn(`could not send the new settings: ${String(error)}`);
            }
          },
        },
      },
    };
    const client = new LanguageClient(SECTION, 'Tandem', serverOptions, clientOptions);
    this.current = client;
    client.registerFeature(editInputFeature);
    client.onNotification(Methods.chatChunk, (chunk: ChatChunk) => this.chunkEmitter.fire(chunk));
    client.onNotification(Methods.editChunk, (chunk: EditChunk) => this.editChunkEmitter.fire(chunk));
    client.onDidChangeState((event) => {
      if (client !== this.current) {
        return;
      }
      this.setState(event.newState === State.Running ? 'running' : event.newState === State.Starting ? 'starting' : 'stopped');
    });
    this.output.info(`starting ${launch.command} ${launch.args.join(' ')}`);
    this.lastError = undefined;
    this.setState('starting');
    try {
      await client.start();
    } catch (error) {
      this.lastError = error instanceof Error ? error.message : String(error);
      this.output.error(`could not start the Tandem language server: ${this.lastError}`);
      this.setState('stopped');
      throw error;
    }
  }

  private async shutdown(): Promise<void> {
    const client = this.current;
    this.current = undefined;
    if (client !== undefined) {
      try {
        await client.dispose(5000);
      } catch (error) {
        this.output.warn(`stopping the language server: ${String(error)}`);
      }
    }
    this.setState('stopped');
  }

  private setState(state: ServerState): void {
    if (state !== this.stateValue) {
      this.stateValue = state;
      void vscode.commands.executeCommand('setContext', 'tandem.serverRunning', state === 'running');
      this.stateEmitter.fire(state);
    }
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
    this.chunkEmitter.dispose();
    this.editChunkEmitter.dispose();
  }
}
