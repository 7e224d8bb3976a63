// End-to-end test of edit by instruction in real VS Code (code-server + headless Chromium), with
// the packaged .vsix, the real tandem-lsp and the stand-in model host (tests/standin_host.py),
// which answers each instruction with a scripted rewrite, so the expected file is known.
// Prints one PASS/FAIL line; exit 1 on failure.
//
//   npm run e2e:edit       (from editor-plugins/vscode; same environment variables as `npm run e2e`)
/* global getComputedStyle */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { PLUGIN, PYTHON, ROOT, Screenshots, closeWorkbench, loadWorkbench, openBrowser, prepare, runScenario, setUpCodeServer, startCodeServer } from './harness.mjs';
import { sleep, startProcess, waitFor } from './procs.mjs';
import { openFile, statusBarText } from './workbench.mjs';

const ARTIFACTS = path.resolve(process.env.TANDEM_ARTIFACTS ?? path.join(PLUGIN, 'artifacts', 'e2e-edit'));

const ORIGINAL = 'def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n';
const DOCSTRING = '    """Return the sum of a and b."""';
const WITH_DOCSTRING = ORIGINAL.replace('def add(a, b):\n', `def add(a, b):\n${DOCSTRING}\n`);
const NEGATED = ORIGINAL.replace('    return a - b', '    return -(b - a)');
const ANSWERS = [
  { match: 'add a docstring', answer: `Here it is:\n\n\`\`\`python\ndef add(a, b):\n${DOCSTRING}\n    return a + b\n\`\`\`\n`, delay: 0.02 },
  { match: 'negate the difference', answer: '```python\ndef sub(a, b):\n    return -(b - a)\n```', delay: 0.02 },
];

const t0 = Date.now();
const log = (message) => console.log(`[e2e-edit ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${message}`);
const shots = new Screenshots(ARTIFACTS, log);
let page;

const screenshot = (name) => shots.take(page, name);

/** The editor's text for `file` after Ctrl+S (waits for the disk to hold something other than `previous`, if given). */
async function saved(file, previous) {
  // A save that did not take (a key lost while the workbench is busy) is tried once more.
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press('Control+S');
    if (previous === undefined) {
      await sleep(800);
      return readFileSync(file, 'utf8');
    }
    try {
      return await waitFor(() => {
        const text = readFileSync(file, 'utf8');
        return text !== previous ? text : undefined;
      }, 5_000, 'the file to change on disk');
    } catch (error) {
      if (attempt >= 1) {
        throw error;
      }
    }
  }
}

/** The text the editor draws from decorations (`before`/`after` content: CSS pseudo-elements, not DOM text). */
async function decorationText() {
  return page.evaluate(() => {
    const editor = document.querySelector('.editor-instance .monaco-editor.focused') ?? document.querySelector('.editor-instance .monaco-editor');
    const out = [];
    for (const el of editor?.querySelectorAll('.view-lines span') ?? []) {
      for (const pseudo of ['::before', '::after']) {
        const content = getComputedStyle(el, pseudo).content;
        if (content && content !== 'none' && content !== 'normal') {
          // A CSS string: quoted, with \" and \\ escaped.
          out.push(content.replace(/^"|"$/g, '').replace(/\\(.)/g, '$1'));
        }
      }
    }
    // Injected text (where the workbench draws it as DOM text) counts too.
    const lines = editor?.querySelector('.view-lines')?.textContent ?? '';
    return [...out, lines].join('\n').replace(/\u00a0/g, ' ');
  });
}

async function lensTitles() {
  return (await page.locator('.editor-instance .monaco-editor .codelens-decoration').allInnerTexts()).join(' | ');
}

/** Selects lines first..last (1-based) of the focused editor with the keyboard. */
async function selectLines(first, last) {
  await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+Home');
  for (let i = 1; i < first; i++) {
    await page.keyboard.press('ArrowDown');
  }
  await page.keyboard.press('Home');
  for (let i = first; i < last; i++) {
    await page.keyboard.press('Shift+ArrowDown');
  }
  await page.keyboard.press('Shift+End');
  await waitFor(() => statusBarText(page, /\(\d+ selected\)/), 5_000, `lines ${first}-${last} selected`);
}

/** Ctrl+I, the instruction, Enter; waits for the proposal's CodeLenses. Returns what the editor shows. */
async function propose(instruction, expectAdded, { pressKey = true } = {}) {
  if (pressKey) {
    await page.keyboard.press('Control+I');
  }
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  const title = (await page.locator('.quick-input-widget .quick-input-title').innerText().catch(() => '')).trim();
  await input.fill(instruction);
  await input.press('Enter');
  await waitFor(async () => /Accept \(Tab\)/.test(await lensTitles()), 30_000, 'the Accept (Tab) CodeLens');
  // The added line is drawn in the editor (a decoration), the document itself is untouched.
  const shown = await waitFor(async () => {
    const text = await decorationText();
    return text.includes(expectAdded.trim()) ? text : undefined;
  }, 10_000, `the proposed line ${JSON.stringify(expectAdded)} drawn in the editor`);
  return { title, lenses: await lensTitles(), shown };
}

async function scenario(tmp) {
  await prepare(log);

  const answers = path.join(tmp, 'answers.json');
  writeFileSync(answers, JSON.stringify(ANSWERS));
  const address = `unix:${path.join(tmp, 's.sock')}`;
  const host = startProcess('stand-in host', PYTHON, ['-m', 'tests.standin_host', address, '--answers', answers], {
    cwd: ROOT,
    env: { ...process.env, PYTHONPATH: ROOT },
    logFile: path.join(ARTIFACTS, 'standin-host.log'),
  });
  await host.ready(/standin-host: listening/, 60_000);
  log(`stand-in host at ${address}`);

  const machineSettings = {
    'tandem.pythonPath': PYTHON,
    'tandem.serverArgs': ['--log-file', path.join(ARTIFACTS, 'tandem-lsp.log')],
    'tandem.host.address': address,
  };
  const userSettings = {
    'tandem.host.autoStart': false,
    'tandem.completion.enable': false,
    'tandem.logLevel': 'debug',
    'editor.quickSuggestions': { other: 'off', comments: 'off', strings: 'off' },
    'editor.suggestOnTriggerCharacters': false,
    'editor.minimap.enabled': false,
    'editor.codeLens': true,
    'files.autoSave': 'off',
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'window.restoreWindows': 'none',
  };
  const profile = await setUpCodeServer(tmp, { machineSettings, userSettings, log });
  const { workspace } = profile;
  const file = path.join(workspace, 'main.py');
  writeFileSync(file, ORIGINAL);

  const port = await startCodeServer(profile, ARTIFACTS, log);
  const { browser, page: opened } = await openBrowser(port, { log });
  page = opened;
  try {
    await loadWorkbench(page, port, workspace, 'main.py');
    await openFile(page, 'main.py');
    // The stand-in's status names its model "replay" (its hello: the Instruct checkpoint).
    const status = await waitFor(() => statusBarText(page, /Instruct|replay/), 90_000, 'the status bar to show the stand-in model');
    log(`workbench loaded; status bar: "${status}"`);

    // -- Ctrl+I on lines 1-2, "add a docstring": the proposal is drawn; Tab applies exactly it --------
    await selectLines(1, 2);
    let shown = await propose('add a docstring', DOCSTRING);
    await screenshot('proposal');
    log(`proposal shown (input "${shown.title}"; lenses: ${shown.lenses})`);
    if (readFileSync(file, 'utf8') !== ORIGINAL || /dirty/.test((await page.locator('.tab.active').getAttribute('class')) ?? '')) {
      throw new Error('the proposal changed the document before it was accepted');
    }
    await page.keyboard.press('Tab');
    await waitFor(async () => !/Accept \(Tab\)/.test(await lensTitles()), 10_000, 'the CodeLenses to go after Tab');
    const accepted = await saved(file, ORIGINAL);
    if (accepted !== WITH_DOCSTRING) {
      throw new Error(`after Tab the file is ${JSON.stringify(accepted)}; expected ${JSON.stringify(WITH_DOCSTRING)}`);
    }
    log('PASS accept: Tab applied exactly the proposal');
    // One undo step brings the original back.
    await page.keyboard.press('Control+Z');
    const undone = await saved(file, WITH_DOCSTRING);
    if (undone !== ORIGINAL) {
      throw new Error(`one undo after accepting gave ${JSON.stringify(undone)}; expected the original`);
    }
    log('PASS undo: one Ctrl+Z restores the original');

    // -- the same, rejected with Esc: nothing changes -----------------------------------------------
    await selectLines(1, 2);
    await propose('add a docstring', DOCSTRING);
    // "Show Diff": the proposal side by side with the file, in a diff editor.
    await page.locator('.editor-instance .monaco-editor .codelens-decoration a', { hasText: 'Show Diff' }).first().click();
    const diffTab = page.locator('.tab.active[aria-label*="proposal"]');
    await diffTab.waitFor({ timeout: 15_000 });
    const modified = page.locator('.editor-instance .monaco-diff-editor .editor.modified .view-lines').first();
    await waitFor(async () => (await modified.innerText()).replace(/\u00a0/g, ' ').includes(DOCSTRING.trim()), 10_000, 'the proposal in the diff editor');
    await screenshot('show-diff');
    await page.keyboard.press('Control+W');
    await page.locator('.tab.active[aria-label*="main.py"]').waitFor({ timeout: 10_000 });
    await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
    await waitFor(async () => /Accept \(Tab\)/.test(await lensTitles()), 10_000, 'the proposal still shown after the diff closed');
    log('PASS show diff: the proposal opened side by side in a diff editor');
    await page.keyboard.press('Escape');
    await waitFor(async () => !/Accept \(Tab\)/.test(await lensTitles()), 10_000, 'the CodeLenses to go after Esc');
    await sleep(500);
    if ((await decorationText()).includes(DOCSTRING.trim())) {
      throw new Error('the proposal is still drawn after Esc');
    }
    const rejected = await saved(file);
    if (rejected !== ORIGINAL) {
      throw new Error(`after Esc the file is ${JSON.stringify(rejected)}; expected it unchanged`);
    }
    await screenshot('rejected');
    log('PASS reject: Esc left the file unchanged and took the diff away');

    // -- a selection further down, accepted from its CodeLens ---------------------------------------
    await selectLines(5, 6);
    shown = await propose('negate the difference', '    return -(b - a)');
    await screenshot('proposal-range');
    await page.locator('.editor-instance .monaco-editor .codelens-decoration a', { hasText: 'Accept' }).first().click();
    await waitFor(async () => /dirty/.test((await page.locator('.tab.active').getAttribute('class')) ?? ''), 10_000, 'the editor to change');
    // The click leaves the focus on the CodeLens: back into the text before saving.
    await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
    const negated = await saved(file, ORIGINAL);
    if (negated !== NEGATED) {
      throw new Error(`accepting from the CodeLens gave ${JSON.stringify(negated)}; expected ${JSON.stringify(NEGATED)}`);
    }
    log('PASS range: the CodeLens applied the rewrite of lines 5-6 only');

    // -- the server's code action "Tandem: Edit…": the extension asks for the instruction ----------
    await selectLines(1, 2);
    // The light bulb's menu (Ctrl+. may be taken by the browser): every code action on the selection.
    const action = page.locator('.action-widget .monaco-list-row', { hasText: 'Tandem: Edit' }).first();
    await page.locator('.editor-instance .monaco-editor .lightBulbWidget').first().waitFor({ state: 'visible', timeout: 20_000 });
    await page.locator('.editor-instance .monaco-editor .lightBulbWidget').first().click();
    await action.waitFor({ state: 'visible', timeout: 20_000 });
    const offered = (await page.locator('.action-widget .monaco-list-row').allInnerTexts()).map((t) => t.trim()).filter((t) => t.startsWith('Tandem'));
    await screenshot('code-actions');
    await action.click();
    await propose('add a docstring', DOCSTRING, { pressKey: false });
    await page.keyboard.press('Escape');
    await waitFor(async () => !/Accept \(Tab\)/.test(await lensTitles()), 10_000, 'the CodeLenses to go after Esc');
    if (readFileSync(file, 'utf8') !== NEGATED) {
      throw new Error('the code action changed the file before its proposal was accepted');
    }
    log(`PASS code action: ${JSON.stringify(offered)} offered; "Tandem: Edit…" asked for the instruction and proposed the rewrite`);

    // -- typing while a proposal is shown drops it: only the typing lands ---------------------------
    await selectLines(1, 2);
    await propose('add a docstring', DOCSTRING);
    await page.keyboard.press('End');
    await page.keyboard.type('  # typed');
    await waitFor(async () => !/Accept \(Tab\)/.test(await lensTitles()), 10_000, 'the CodeLenses to go after typing');
    if ((await decorationText()).includes(DOCSTRING.trim())) {
      throw new Error('the proposal is still drawn after the document changed');
    }
    const typed = await saved(file, NEGATED);
    const expectTyped = NEGATED.replace('    return a + b', '    return a + b  # typed');
    if (typed !== expectTyped) {
      throw new Error(`typing during a proposal gave ${JSON.stringify(typed)}; expected only the typed text`);
    }
    log('PASS change: typing dropped the proposal, the file holds only what was typed');
  } finally {
    await closeWorkbench(browser, profile, ARTIFACTS, screenshot);
  }
}

await runScenario({
  artifacts: ARTIFACTS,
  t0,
  scenario,
  passed: () => `Ctrl+I proposal drawn, Tab applied it exactly, one undo restored the original, Show Diff opened a diff editor, Esc left the file unchanged, a CodeLens applied a ranged rewrite, the Edit… code action asked and proposed, typing dropped a proposal (${shots.count} screenshots in ${ARTIFACTS})`,
});
