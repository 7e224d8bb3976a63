// What the end-to-end scenarios (run.mjs, edit.mjs) share: an isolated code-server with the packaged
// .vsix installed, headless Chromium on its workbench, and the run of a scenario under a watchdog that
// ends in one PASS/FAIL line.
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, run, startProcess, stopAll } from './procs.mjs';
import { CODE_SERVER, NODE24, ensureTools } from './tools.mjs';

export const PLUGIN = path.resolve(import.meta.dirname, '..', '..');
export const ROOT = path.resolve(PLUGIN, '..', '..');
export const PYTHON = path.resolve(PLUGIN, process.env.TANDEM_PYTHON ?? '../../.venv/bin/python');
export const CHROMIUM = process.env.TANDEM_CHROMIUM ?? '/usr/bin/chromium';
export const VSIX = path.join(ROOT, 'artifacts', 'tandem-vscode.vsix'); // where `npm run package` writes it
const WATCHDOG_MS = 9.5 * 60_000;

/** The tools installed (on first use), the interpreter there, the .vsix built (`npm run package`). */
export async function prepare(log) {
  await ensureTools(log);
  if (!existsSync(PYTHON)) {
    throw new Error(`no Python at ${PYTHON} (set TANDEM_PYTHON to an interpreter with Tandem installed)`);
  }
  log('building the .vsix (npm run package)');
  await run('npm', ['run', 'package'], { cwd: PLUGIN });
}

/** Numbered screenshots (`01-name.png`, …) in `artifacts`. */
export class Screenshots {
  constructor(artifacts, log) {
    this.artifacts = artifacts;
    this.log = log;
    this.count = 0;
  }

  /** A screenshot of `page`, if there is one yet. */
  async take(page, name) {
    if (page) {
      this.count += 1;
      const file = path.join(this.artifacts, `${String(this.count).padStart(2, '0')}-${name}.png`);
      await page.screenshot({ path: file });
      this.log(`screenshot ${path.relative(process.cwd(), file)}`);
    }
  }
}

/**
 * A code-server profile of its own under `tmp` (user data, extensions, home, an empty workspace)
 * with the .vsix installed and the settings written. Tandem's machine-specific settings
 * (interpreter, socket) go where a remote window reads them: code-server's extension host is
 * "remote", and ignores machine-scoped values in user settings.
 */
export async function setUpCodeServer(tmp, { machineSettings, userSettings, log }) {
  const userData = path.join(tmp, 'user-data');
  const extensions = path.join(tmp, 'extensions');
  const home = path.join(tmp, 'home');
  const workspace = path.join(tmp, 'workspace');
  for (const dir of [userData, extensions, home, workspace, path.join(userData, 'User'), path.join(userData, 'Machine')]) {
    mkdirSync(dir, { recursive: true });
  }
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
  };
  delete env.VSCODE_IPC_HOOK_CLI;
  const args = ['--user-data-dir', userData, '--extensions-dir', extensions, '--config', path.join(tmp, 'code-server.yaml')];
  writeFileSync(path.join(tmp, 'code-server.yaml'), 'auth: none\ncert: false\n');
  log('installing the .vsix into code-server');
  await run(NODE24, [CODE_SERVER, ...args, '--install-extension', VSIX], { env });
  writeFileSync(path.join(userData, 'Machine', 'settings.json'), JSON.stringify(machineSettings, null, 2));
  writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify(userSettings, null, 2));
  return { userData, workspace, env, args };
}

/** Starts code-server on a free port of 127.0.0.1 with `profile` (from setUpCodeServer); returns the port. */
export async function startCodeServer(profile, artifacts, log) {
  const port = await freePort();
  const codeServer = startProcess(
    'code-server',
    NODE24,
    [
      CODE_SERVER,
      ...profile.args,
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--ignore-last-opened',
      profile.workspace,
    ],
    { env: profile.env, logFile: path.join(artifacts, 'code-server.log') },
  );
  await codeServer.ready(/HTTP server listening/, 60_000);
  log(`code-server listening on 127.0.0.1:${port}`);
  return port;
}

/** Headless Chromium with a page for the code-server at `port`; `clipboard`: the page may read and write the clipboard. */
export async function openBrowser(port, { clipboard = false, log }) {
  const { chromium } = await import('playwright-core');
  // playwright-core gives the browser a fresh, empty profile directory of its own.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-quic', '--no-first-run', '--disable-sync'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    if (clipboard) {
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: `http://127.0.0.1:${port}` });
    }
    const page = await context.newPage();
    page.on('pageerror', (error) => log(`page error: ${error.message}`));
    return { browser, page };
  } catch (error) {
    await browser.close().catch(() => undefined);
    throw error;
  }
}

/** Loads the workbench of the code-server at `port` with `workspace` open; waits until its explorer lists `file`. */
export async function loadWorkbench(page, port, workspace, file) {
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 120_000 });
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: file }).waitFor({ timeout: 60_000 });
}

/** The last screenshot (if the page is still there), the browser closed, VS Code's logs (the Tandem output channel among them) kept. */
export async function closeWorkbench(browser, profile, artifacts, screenshot) {
  try {
    await screenshot('final');
  } catch {
    // the page may be gone
  }
  await browser.close().catch(() => undefined);
  const logs = path.join(profile.userData, 'logs');
  if (existsSync(logs)) {
    cpSync(logs, path.join(artifacts, 'vscode-logs'), { recursive: true });
  }
}

/**
 * Runs `scenario(tmp)` in a fresh temporary folder, every process it started stopped at the end,
 * under a watchdog; prints `E2E PASS in Ns: <passed()>` or `E2E FAIL …` and exits 1 on failure.
 */
export async function runScenario({ artifacts, t0, scenario, passed }) {
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  // Short: a unix socket path must stay under ~100 bytes.
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'tandem-e2e-'));
  const watchdog = setTimeout(() => {
    console.log(`E2E FAIL: still running after ${WATCHDOG_MS / 60_000} minutes`);
    void stopAll(1000).finally(() => process.exit(1));
  }, WATCHDOG_MS);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      console.log(`E2E FAIL: interrupted (${signal})`);
      void stopAll(1000).finally(() => process.exit(130));
    });
  }
  let failure;
  try {
    await scenario(tmp);
  } catch (error) {
    failure = error;
  } finally {
    clearTimeout(watchdog);
    await stopAll();
    if (!process.env.TANDEM_E2E_KEEP) {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const seconds = ((Date.now() - t0) / 1000).toFixed(0);
  if (failure) {
    console.error(failure instanceof Error ? failure.stack : failure);
    console.log(`E2E FAIL after ${seconds}s: ${String(failure instanceof Error ? failure.message : failure).split('\n')[0]} (artifacts: ${artifacts})`);
    process.exit(1);
  }
  console.log(`E2E PASS in ${seconds}s: ${passed()}`);
}
