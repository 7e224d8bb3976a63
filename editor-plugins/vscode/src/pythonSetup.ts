/** The Python environment the server runs in: the setting, else one found; "Set Up Python Environment". */
import { spawn } from 'node:child_process';
import * as vscode from 'vscode';
import { candidatePythons, createSteps, findPython, isTandemCheckout, probePython, venvPython, type Step } from './python';
import { SECTION, expandPath } from './settings';

export const WALKTHROUGH = 'tandem.tandem-vscode#tandem.gettingStarted';

function folders(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
}

export class PythonEnvironment {
  /** The interpreter in use and where it came from (for the status view). */
  current: { path: string; source: string } | undefined;

  constructor(
    private readonly storage: vscode.Uri,
    private readonly output: vscode.LogOutputChannel,
  ) {}

  private get managedVenv(): string {
    return vscode.Uri.joinPath(this.storage, 'venv').fsPath;
  }

  /** Whether the user chose an interpreter (`tandem.pythonPath` set anywhere). */
  userSet(): string | undefined {
    const where = vscode.workspace.getConfiguration(SECTION).inspect<string>('pythonPath');
    const value = where?.workspaceFolderValue ?? where?.workspaceValue ?? where?.globalValue;
    return typeof value === 'string' && value.trim() !== '' ? value : undefined;
  }

  /**
   * The interpreter to start the server with: `tandem.pythonPath` when set, else the first
   * environment where Tandem imports (workspace venvs, ours, PATH); undefined when none does.
   */
  async resolve(): Promise<string | undefined> {
    const chosen = this.userSet();
    if (chosen !== undefined) {
      this.current = { path: expandPath(chosen, folders()[0]), source: 'tandem.pythonPath' };
      return undefined; // the setting speaks for itself
    }
    const found = await findPython(candidatePythons(folders(), this.managedVenv));
    if (found === undefined) {
      this.current = undefined;
      this.output.warn('no Python environment with Tandem found (workspace .venv/venv/env, PATH); run "Tandem: Set Up Python Environment"');
      return undefined;
    }
    this.current = { path: found.path, source: found.source };
    this.output.info(`using the Python environment ${found.path} (found: ${found.source}, Tandem ${found.version}); set tandem.pythonPath to choose another`);
    return found.path;
  }

  /** The command: pick a found environment, create one, or browse for an interpreter. */
  async setUp(): Promise<string | undefined> {
    const candidates = candidatePythons(folders(), this.managedVenv);
    const probed = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Tandem: looking for Python environments with Tandem…' },
      () => Promise.all(candidates.map(async (c) => ({ ...c, probe: await probePython(c.path) }))),
    );
    type Item = vscode.QuickPickItem & { action: 'use' | 'create' | 'browse'; python?: string };
    const items: Item[] = probed
      .filter((c) => c.probe.ok)
      .map((c) => ({ label: `$(check) ${c.path}`, description: `Tandem ${c.probe.ok ? c.probe.version : ''} · ${c.source}`, action: 'use', python: c.path }));
    items.push(
      { label: '$(add) Create an environment and install Tandem…', description: 'from a Tandem checkout', action: 'create' },
      { label: '$(folder-opened) Choose an interpreter…', action: 'browse' },
    );
    const pick = await vscode.window.showQuickPick(items, {
      title: 'Tandem: Python environment for the language server',
      placeHolder: items.length > 2 ? 'Environments where Tandem is installed' : 'No environment with Tandem found: create one, or choose an interpreter',
    });
    if (pick === undefined) {
      return undefined;
    }
    let python = pick.python;
    if (pick.action === 'create') {
      python = await this.create();
    } else if (pick.action === 'browse') {
      python = await this.browse();
    }
    if (python !== undefined) {
      await vscode.workspace.getConfiguration(SECTION).update('pythonPath', python, vscode.ConfigurationTarget.Global);
      this.output.info(`tandem.pythonPath set to ${python}`);
    }
    return python;
  }

  private async browse(): Promise<string | undefined> {
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, title: 'Python interpreter with Tandem installed' });
    const python = picked?.[0]?.fsPath;
    if (python === undefined) {
      return undefined;
    }
    const probe = await probePython(python);
    if (!probe.ok) {
      void vscode.window.showErrorMessage(`Tandem is not installed for ${python}: ${probe.error}`);
      return undefined;
    }
    return python;
  }

  private async create(): Promise<string | undefined> {
    const checkout = folders().find(isTandemCheckout);
    const picked = await vscode.window.showOpenDialog({
      canSelectFiles: false,
      canSelectFolders: true,
      canSelectMany: false,
      title: 'Folder of a Tandem checkout (the one holding pyproject.toml)',
      ...(checkout !== undefined ? { defaultUri: vscode.Uri.file(checkout) } : {}),
    });
    const source = picked?.[0]?.fsPath;
    if (source === undefined) {
      return undefined;
    }
    if (!isTandemCheckout(source)) {
      void vscode.window.showErrorMessage(`${source} is not a Tandem checkout (no pyproject.toml naming tandem-assist).`);
      return undefined;
    }
    const base = (await findBasePython()) ?? 'python3';
    const steps = createSteps(base, this.managedVenv, source);
    const ok = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Tandem: creating a Python environment', cancellable: true },
      async (progress, token) => {
        for (const step of steps) {
          progress.report({ message: step.title });
          if (!(await this.runStep(step, token))) {
            return false;
          }
        }
        return true;
      },
    );
    if (!ok) {
      void vscode.window.showErrorMessage('Tandem: creating the environment failed; the Tandem log has the details.', 'Show Log').then((choice) => {
        if (choice) {
          this.output.show(true);
        }
      });
      return undefined;
    }
    return venvPython(this.managedVenv);
  }

  private runStep(step: Step, token: vscode.CancellationToken): Promise<boolean> {
    this.output.info(`${step.title}: ${step.command} ${step.args.join(' ')}`);
    return new Promise((resolve) => {
      const child = spawn(step.command, step.args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const log = (data: Buffer): void => {
        for (const line of data.toString().split('\n')) {
          if (line.trim() !== '') {
            this.output.info(line);
          }
        }
      };
      child.stdout.on('data', log);
      child.stderr.on('data', log);
      const cancel = token.onCancellationRequested(() => child.kill());
      child.on('error', (error) => {
        this.output.error(`${step.command}: ${error.message}`);
        cancel.dispose();
        resolve(false);
      });
      child.on('close', (code) => {
        cancel.dispose();
        resolve(code === 0);
      });
    });
  }
}

/** A Python 3 on PATH that can make virtual environments. */
async function findBasePython(): Promise<string | undefined> {
  const names = process.platform === 'win32' ? ['python', 'py'] : ['python3', 'python'];
  for (const name of names) {
    const ok = await new Promise<boolean>((resolve) => {
      const child = spawn(name, ['-c', 'import venv, sys; sys.exit(sys.version_info < (3, 10))'], { stdio: 'ignore' });
      child.on('error', () => resolve(false));
      child.on('close', (code) => resolve(code === 0));
    });
    if (ok) {
      return name;
    }
  }
  return undefined;
}

