// End-to-end test in real VS Code: code-server + headless Chromium (playwright-core) + the packaged .vsix
// + the real tandem-lsp + a tiny random Code Llama model host. Prints one PASS/FAIL line; exit 1 on failure.
//
//   npm run e2e            (from editor-plugins/vscode)
//   TANDEM_PYTHON=…/python TANDEM_ARTIFACTS=… TANDEM_CHROMIUM=/usr/bin/chromium npm run e2e
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { PLUGIN, PYTHON, Screenshots, closeWorkbench, loadWorkbench, openBrowser, prepare, runScenario, setUpCodeServer, startCodeServer } from './harness.mjs';
import { run, sleep, startProcess, waitFor } from './procs.mjs';
import { dialogVisible, focusedEditorText, ghostText, openFile, pickRow, runCommand, statusBarText, webviewFrame } from './workbench.mjs';

const ARTIFACTS = path.resolve(process.env.TANDEM_ARTIFACTS ?? path.join(PLUGIN, 'artifacts', 'e2e'));
const NO_GHOST_MS = 6000;
const MODEL_NAME = 'tandem-tiny';

const t0 = Date.now();
const log = (message) => console.log(`[e2e ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${message}`);
const shots = new Screenshots(ARTIFACTS, log);
let page;

const screenshot = (name) => shots.take(page, name);

/** Keeps only visible ASCII: the tiny model's random text may hold characters the editor draws differently. */
function visible(text) {
  return text.replace(/[^\x21-\x7e]/g, '');
}

async function readUntilChanged(file, previous, ms) {
  return waitFor(() => {
    const text = readFileSync(file, 'utf8');
    return text !== previous ? text : undefined;
  }, ms, `${path.basename(file)} to change on disk`);
}

/** Shows ghost text at the cursor (asking with "Trigger Inline Suggestion" if it does not come); returns it. */
async function triggerGhost(page, what) {
  let ghost = await waitFor(() => ghostText(page), 10_000, `automatic ghost text (${what})`).catch(() => '');
  for (let attempt = 0; !ghost && attempt < 4; attempt++) {
    log(`no ghost text (${what}); running "Trigger Inline Suggestion"`);
    await runCommand(page, 'Trigger Inline Suggestion');
    ghost = await waitFor(() => ghostText(page), 15_000, `ghost text after the palette command (${what})`).catch(() => '');
  }
  if (!ghost) {
    throw new Error(`no ghost text (${what}) after asking 4 times`);
  }
  return ghost;
}

/** Asks for ghost text (as triggerGhost does) and checks that none comes: it is off here. */
async function expectNoGhost(page, what) {
  await runCommand(page, 'Trigger Inline Suggestion');
  await sleep(NO_GHOST_MS);
  const ghost = await ghostText(page);
  if (ghost) {
    throw new Error(`ghost text ${JSON.stringify(ghost)} appeared ${what}`);
  }
}

/** "Tandem: Show Status": the report, read from the (non-modal) status document. */
async function statusReport(page) {
  await runCommand(page, 'Tandem: Show Status');
  await page.locator('.tab.active[aria-label*="Tandem Status"]').waitFor({ timeout: 15_000 });
  const report = await waitFor(async () => {
    const text = await focusedEditorText(page);
    return /Language server:/.test(text) ? text : undefined;
  }, 10_000, 'the status document');
  if (await dialogVisible(page)) {
    throw new Error('Show Status opened a modal dialog');
  }
  return report;
}

/** Closes the status document's tab (its close button: palette labels are ambiguous). */
async function closeStatus(page) {
  const tab = page.locator('.tab[aria-label*="Tandem Status"]').first();
  await tab.hover();
  await tab.locator('.tab-actions .action-label').first().click();
  await tab.waitFor({ state: 'detached', timeout: 10_000 });
}

async function scenario(tmp) {
  // -- tools, package, model host ------------------------------------------------------------
  await prepare(log);

  const model = path.join(tmp, MODEL_NAME);
  log('building a tiny random Code Llama checkpoint');
  await run(PYTHON, ['-m', 'model_host.devtools.tiny', model]);
  const address = `unix:${path.join(tmp, 'h.sock')}`;
  const host = startProcess('model host', PYTHON, ['-m', 'model_host', '--model', model, '--listen', address], {
    logFile: path.join(ARTIFACTS, 'model-host.log'),
  });
  await host.ready(/tandem-host: ready/, 120_000);
  log(`model host ready at ${address}`);

  // -- an isolated code-server with the extension installed ------------------------------------
  const machineSettings = {
    'tandem.serverArgs': ['--log-file', path.join(ARTIFACTS, 'tandem-lsp.log')],
    'tandem.host.address': address,
  };
  const userSettings = {
    'tandem.completion.maxTokensLine': 12,
    'tandem.completion.maxTokensBlock': 24,
    'tandem.chat.maxTokens': 96,
    'tandem.logLevel': 'debug',
    'tandem.completion.disableInFiles': ['secret_*.py'],
    'editor.inlineSuggest.enabled': true,
    'editor.quickSuggestions': { other: 'off', comments: 'off', strings: 'off' },
    'editor.suggestOnTriggerCharacters': false,
    'editor.wordBasedSuggestions': 'off',
    'editor.minimap.enabled': false,
    'files.autoSave': 'off',
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'workbench.colorTheme': 'Default Dark Modern',
    'window.restoreWindows': 'none',
  };
  const profile = await setUpCodeServer(tmp, { machineSettings, userSettings, log });
  const { userData, workspace } = profile;

  // A workspace virtual environment (a stand-in that runs our interpreter): Tandem must find
  // it by itself, with tandem.pythonPath unset, as for a new user who just made one.
  const venvPython = path.join(workspace, '.venv', 'bin', 'python');
  mkdirSync(path.dirname(venvPython), { recursive: true });
  writeFileSync(venvPython, `#!/bin/sh\nexec "${PYTHON}" "$@"\n`);
  chmodSync(venvPython, 0o755);
  const file = path.join(workspace, 'main.py');
  writeFileSync(file, '"""Small arithmetic helpers."""\n\n\ndef sub(a, b):\n    return a - b\n\n\n');
  writeFileSync(path.join(workspace, 'secret_keys.py'), '# Keys: no suggestions here.\n\n');

  const port = await startCodeServer(profile, ARTIFACTS, log);

  // -- the browser ------------------------------------------------------------------------------
  const { browser, page: opened } = await openBrowser(port, { clipboard: true, log });
  page = opened;
  try {
    await loadWorkbench(page, port, workspace, 'main.py');
    log('workbench loaded');
    await screenshot('workbench');

    // -- the extension is running: status bar shows the model ------------------------------------
    await openFile(page, 'main.py');
    const status = await waitFor(() => statusBarText(page, new RegExp(MODEL_NAME)), 90_000, `the status bar to show ${MODEL_NAME}`);
    log(`status bar: "${status}"`);
    await screenshot('status-bar-model');

    // -- ghost text: type, see the suggestion, Tab, the file holds it ---------------------------------
    await page.keyboard.press('Control+End');
    await page.keyboard.type('def add(a, b):', { delay: 30 });
    await page.keyboard.press('Enter');
    await sleep(300);
    const original = readFileSync(file, 'utf8');
    await page.keyboard.press('Control+S');
    const before = await readUntilChanged(file, original, 10_000);
    log(`typed and saved; the file ends with ${JSON.stringify(before.slice(-24))}`);
    await screenshot('typed');

    let ghost = await triggerGhost(page, 'main.py');
    // Let it settle (a later answer may replace the first), then read it once more.
    await sleep(800);
    ghost = (await ghostText(page)) || ghost;
    log(`ghost text shown: ${JSON.stringify(ghost)}`);
    await screenshot('ghost-text');

    // (After Tab the server may at once offer the next suggestion: only the file tells what Tab did.)
    await page.keyboard.press('Tab');
    await sleep(300);
    await page.keyboard.press('Control+S');
    const after = await readUntilChanged(file, before, 10_000);
    await screenshot('accepted');
    const inserted = after.slice(before.length);
    log(`inserted by Tab: ${JSON.stringify(inserted)}`);
    if (!after.startsWith(before)) {
      throw new Error(`the text before the cursor changed:\nbefore: ${JSON.stringify(before)}\nafter:  ${JSON.stringify(after)}`);
    }
    if (visible(inserted) === '' || visible(inserted) !== visible(ghost)) {
      throw new Error(`Tab inserted ${JSON.stringify(inserted)}, but the ghost text was ${JSON.stringify(ghost)}`);
    }
    log('PASS ghost text: file after Tab == file before + the ghost text shown');

    // -- status: the acceptance reached the server (tandem.didAccept) -------------------------------
    const report = await statusReport(page);
    await screenshot('status-document');
    await closeStatus(page);
    const accepted = /(\d+) accepted/.exec(report);
    if (!accepted || Number(accepted[1]) < 1 || !report.includes(MODEL_NAME)) {
      throw new Error(`the status report does not show the model and an accepted suggestion:\n${report}`);
    }
    if (!report.includes(`Python: ${venvPython} (workspace .venv)`)) {
      throw new Error(`the status does not name the Python environment found in the workspace:\n${report}`);
    }
    log(`PASS status (a document, no dialog): ${report.split('\n').find((l) => l.startsWith('Suggestions'))}`);
    log('PASS first run: the workspace .venv was found without tandem.pythonPath');

    // -- chat: ask in the panel, the answer streams in ---------------------------------------------
    await runCommand(page, 'Tandem: Open Chat');
    const chat = await webviewFrame(page, '#question');
    await chat.locator('#question').fill('What does add do?');
    await chat.locator('#question').press('Enter');
    const answer = chat.locator('.turn.assistant').last();
    await answer.waitFor({ timeout: 15_000 });
    await waitFor(async () => (await answer.getAttribute('data-state')) !== 'streaming', 60_000, 'the chat answer to finish');
    const chatState = await answer.getAttribute('data-state');
    const chatUpdates = Number(await answer.getAttribute('data-updates'));
    const chatText = (await answer.locator('.body').innerText()).trim();
    await screenshot('chat-answer');
    if (chatState !== 'done' || chatText === '') {
      throw new Error(`the chat answer ended ${chatState}: ${await answer.innerText()}`);
    }
    if (chatUpdates < 3) {
      throw new Error(`the chat answer was drawn ${chatUpdates} time(s); a streamed answer is drawn once per chunk`);
    }
    log(`PASS chat: ${chatText.length} characters, drawn ${chatUpdates} times while streaming`);

    // -- code blocks: Insert puts the code at the editor's cursor, Copy puts it on the clipboard --------
    const code = 'def mul(a, b):\n    return a * b';
    await chat.locator('#question').fill(`Is this right?\n\`\`\`python\n${code}\n\`\`\``);
    await chat.locator('#question').press('Enter');
    const asked = chat.locator('.turn.user').last().locator('.code-block');
    await asked.waitFor({ timeout: 15_000 });
    await waitFor(async () => (await chat.locator('.turn.assistant').last().getAttribute('data-state')) !== 'streaming', 60_000, 'the second answer');
    // Insert puts the block on lines of its own: below a line with text...
    const insertAt = async (downs) => {
      await openFile(page, 'main.py');
      // Keys can land before the editor has settled after Quick Open: move until the status
      // bar shows the cursor on the wanted line, so Insert is judged from where it was meant.
      const where = new RegExp(`^Ln ${downs + 1}, Col 1\\b`);
      for (let attempt = 0; ; attempt++) {
        await page.keyboard.press('Control+Home');
        for (let i = 0; i < downs; i++) {
          await page.keyboard.press('ArrowDown');
        }
        await page.keyboard.press('Home');
        try {
          await waitFor(() => statusBarText(page, where), 3_000, `the cursor on line ${downs + 1}`);
          break;
        } catch (error) {
          if (attempt >= 2) {
            throw error;
          }
        }
      }
      await sleep(300);
      const beforeInsert = readFileSync(file, 'utf8');
      await asked.locator('button[data-action="insert"]').click();
      await waitFor(async () => (await page.locator('.tab.active').getAttribute('class'))?.includes('dirty'), 10_000, 'the editor to change');
      await sleep(300);
      await page.keyboard.press('Control+S');
      return [beforeInsert, await readUntilChanged(file, beforeInsert, 10_000)];
    };
    const codeLines = code.split('\n');
    let [beforeInsert, afterInsert] = await insertAt(0);
    let want = beforeInsert.split('\n');
    want.splice(1, 0, ...codeLines);
    if (afterInsert !== want.join('\n')) {
      throw new Error(`Insert on a line with text gave ${JSON.stringify(afterInsert.slice(0, 160))}; expected the block on the lines below it`);
    }
    // ...and in place of a blank line.
    [beforeInsert, afterInsert] = await insertAt(codeLines.length + 1);
    want = beforeInsert.split('\n');
    if (want[codeLines.length + 1] !== '') {
      throw new Error(`expected a blank line ${codeLines.length + 2} in ${JSON.stringify(beforeInsert)}`);
    }
    want.splice(codeLines.length + 1, 1, ...codeLines);
    if (afterInsert !== want.join('\n')) {
      throw new Error(`Insert on a blank line gave ${JSON.stringify(afterInsert.slice(0, 200))}; expected the block in its place`);
    }
    await screenshot('code-block-inserted');
    await asked.locator('button[data-action="copy"]').click();
    const clipboard = await waitFor(async () => {
      const text = await page.evaluate(() => navigator.clipboard.readText());
      return text === code ? text : undefined;
    }, 10_000, 'the clipboard to hold the code block');
    log(`PASS code block: Insert put ${JSON.stringify(code)} on lines of its own (below a line, in place of a blank one); Copy put ${clipboard.length} characters on the clipboard`);

    // -- a selection command streams into the chat ----------------------------------------------------
    await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('Shift+Control+End');
    await runCommand(page, 'Tandem: Explain Selection');
    const explainQuestion = chat.locator('.turn.user').last();
    await waitFor(async () => /^Explain main\.py/.test((await explainQuestion.innerText()).trim()), 15_000, 'the Explain turn in the chat');
    const explained = chat.locator('.turn.assistant').last();
    await waitFor(async () => (await explained.getAttribute('data-state')) !== 'streaming', 60_000, 'the explanation to finish');
    const explainState = await explained.getAttribute('data-state');
    const explainUpdates = Number(await explained.getAttribute('data-updates'));
    await screenshot('explain-selection');
    if (explainState !== 'done' || (await explained.locator('.body').innerText()).trim() === '' || explainUpdates < 3) {
      throw new Error(`the explanation ended ${explainState} after ${explainUpdates} draws: ${await explained.innerText()}`);
    }
    log(`PASS explain: "${(await explainQuestion.innerText()).trim().split('\n')[0]}" answered, drawn ${explainUpdates} times`);

    // -- restart: a new server process comes up (its counters start again from zero) -------------------
    await runCommand(page, 'Tandem: Restart Language Server');
    await sleep(1000);
    await waitFor(() => statusBarText(page, new RegExp(MODEL_NAME)), 60_000, 'the status bar to show the model again');
    const restarted = await statusReport(page);
    await screenshot('status-after-restart');
    await closeStatus(page);
    if (!/Language server: running/.test(restarted) || !/ 0 accepted/.test(restarted)) {
      throw new Error(`after a restart the status should come from a new server:\n${restarted}`);
    }
    log('PASS restart: a new language server answers');

    // -- the status-bar switch turns ghost text off and on ---------------------------------------------
    await openFile(page, 'main.py');
    const toggleOn = page.locator('.part.statusbar a.statusbar-item-label[aria-label="Tandem completions on"]');
    await toggleOn.waitFor({ timeout: 10_000 });
    await toggleOn.click();
    await page.locator('.part.statusbar a.statusbar-item-label[aria-label="Tandem completions off"]').waitFor({ timeout: 10_000 });
    const userAfterToggle = JSON.parse(readFileSync(path.join(userData, 'User', 'settings.json'), 'utf8'));
    if (userAfterToggle['tandem.completion.enable'] !== false) {
      throw new Error(`the switch did not turn tandem.completion.enable off: ${JSON.stringify(userAfterToggle)}`);
    }
    await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('def div(a, b):', { delay: 30 });
    await page.keyboard.press('Enter');
    await expectNoGhost(page, 'with completions switched off');
    await screenshot('completions-off');
    await page.locator('.part.statusbar a.statusbar-item-label[aria-label="Tandem completions off"]').click();
    await toggleOn.waitFor({ timeout: 10_000 });
    await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+End');
    const back = await triggerGhost(page, 'switched back on');
    await page.keyboard.press('Escape');
    log(`PASS switch: no ghost text while off; back on, ghost text ${JSON.stringify(back.slice(0, 30))}`);

    // -- tandem.completion.disableInFiles: no ghost text in secret_*.py ----------------------------------
    await openFile(page, 'secret_keys.py');
    await page.keyboard.press('Control+End');
    await page.keyboard.type('def key():', { delay: 30 });
    await page.keyboard.press('Enter');
    await expectNoGhost(page, 'in a file matched by tandem.completion.disableInFiles');
    await screenshot('disabled-file');
    log('PASS disableInFiles: secret_keys.py gets no ghost text');

    // -- "Set Up Python Environment" lists the environment found and makes it the setting -------------------
    await runCommand(page, 'Tandem: Set Up Python Environment', { opensPicker: true });
    await screenshot('python-setup');
    await pickRow(page, '.venv/bin/python');
    const written = await waitFor(() => {
      for (const where of ['Machine', 'User']) {
        const settingsFile = path.join(userData, where, 'settings.json');
        const value = existsSync(settingsFile) ? JSON.parse(readFileSync(settingsFile, 'utf8'))['tandem.pythonPath'] : undefined;
        if (value) {
          return `${where}: ${value}`;
        }
      }
      return undefined;
    }, 15_000, 'tandem.pythonPath to be written');
    if (!written.endsWith(venvPython)) {
      throw new Error(`Set Up Python Environment wrote ${written}`);
    }
    await waitFor(() => statusBarText(page, new RegExp(MODEL_NAME)), 60_000, 'the server back after the interpreter change');
    await sleep(1000);
    const toasts = (await page.locator('.notifications-toasts .notification-toast').allInnerTexts()).filter((t) => /fail|error/i.test(t));
    if (toasts.length > 0) {
      throw new Error(`the restart for the new interpreter showed errors: ${JSON.stringify(toasts)}`);
    }
    log(`PASS python setup: picked the workspace .venv (${written}); the server restarted without an error`);

    // -- the walkthrough is there ------------------------------------------------------------------------
    await runCommand(page, 'Welcome: Open Walkthrough...', { opensPicker: true });
    await pickRow(page, 'Get started with Tandem');
    await page.locator('.gettingStartedContainer', { hasText: 'Python environment' }).first().waitFor({ timeout: 20_000 });
    await screenshot('walkthrough');
    const walkthrough = await page.locator('.gettingStartedContainer').first().innerText();
    for (const step of ['Python environment', 'Choose a model', 'Ghost text and chat']) {
      if (!walkthrough.includes(step)) {
        throw new Error(`the walkthrough has no step "${step}":\n${walkthrough.slice(0, 800)}`);
      }
    }
    log('PASS walkthrough: Get started with Tandem (Python environment, model, ghost text and chat)');

  } finally {
    await closeWorkbench(browser, profile, ARTIFACTS, screenshot);
  }
}

await runScenario({
  artifacts: ARTIFACTS,
  t0,
  scenario,
  passed: () => `workspace venv found, ghost text accepted with Tab, status document, chat answer streamed, code block inserted on its own lines/copied, Explain Selection streamed, server restarted, completions switch, disableInFiles, Python setup, walkthrough (${shots.count} screenshots in ${ARTIFACTS})`,
});
