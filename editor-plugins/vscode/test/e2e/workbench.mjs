// Driving the VS Code workbench (code-server) through playwright-core: commands, files, ghost text, webviews.
import { sleep, waitFor } from './procs.mjs';

/** Runs a command by its palette label (F1, type, Enter); `opensPicker`: it shows a quick pick of its own. */
export async function runCommand(page, label, { opensPicker = false } = {}) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(`>${label}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ state: 'visible', timeout: 10_000 });
  await sleep(200);
  await input.press('Enter');
  if (opensPicker) {
    await page.waitForFunction(() => !document.querySelector('.quick-input-widget input')?.value.startsWith('>'), null, { timeout: 10_000 });
    return;
  }
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
}

/** Opens a workspace file with Quick Open and waits for its editor to have focus. */
export async function openFile(page, name) {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 15_000 });
  await sleep(200);
  await input.press('Enter');
  await page.locator(`.tab.active[aria-label*="${name}"]`).waitFor({ timeout: 15_000 });
  await page.locator('.editor-instance .monaco-editor.focused').waitFor({ timeout: 10_000 });
}

/** The ghost text on screen (inline part + extra lines), or '' when none is shown. */
export async function ghostText(page) {
  return page.evaluate(() => {
    const editor = document.querySelector('.editor-instance .monaco-editor.focused') ?? document.querySelector('.editor-instance .monaco-editor');
    if (!editor) {
      return '';
    }
    const inline = [...editor.querySelectorAll('.ghost-text-decoration, .ghost-text-decoration-preview')].map((e) => e.textContent ?? '').join('');
    // Lines after the first are drawn in a view zone below the cursor's line.
    const lines = [...editor.querySelectorAll('.suggest-preview-text .view-line')].map((e) => e.textContent ?? '');
    return [inline, ...lines].join('\n').replace(/\u00a0/g, ' ');
  });
}

/** The frame (inside VS Code's webview iframes) that contains `selector`. */
export async function webviewFrame(page, selector, ms = 30_000) {
  return waitFor(
    async () => {
      for (const frame of page.frames()) {
        if (frame === page.mainFrame()) {
          continue;
        }
        try {
          if ((await frame.locator(selector).count()) > 0) {
            return frame;
          }
        } catch {
          // a frame that navigated away
        }
      }
      return undefined;
    },
    ms,
    `a webview with ${selector}`,
    300,
  );
}

/** Text of the status-bar entry whose text matches `pattern`. */
export async function statusBarText(page, pattern) {
  const texts = await page.locator('.part.statusbar .statusbar-item').allInnerTexts();
  return texts.map((t) => t.trim()).find((t) => pattern.test(t));
}

/** The open modal dialog's message and detail text. */
export async function dialogText(page) {
  const box = page.locator('.monaco-dialog-box');
  await box.waitFor({ state: 'visible', timeout: 15_000 });
  return (await box.innerText()).trim();
}

/** The text of the focused editor (e.g. the Tandem Status document), lines in order. */
export async function focusedEditorText(page) {
  return page.evaluate(() => {
    const editor = document.querySelector('.editor-instance .monaco-editor.focused') ?? document.querySelector('.editor-instance .monaco-editor');
    const lines = [...(editor?.querySelectorAll('.view-lines .view-line') ?? [])];
    lines.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
    return lines.map((l) => (l.textContent ?? '').replace(/\u00a0/g, ' ')).join('\n');
  });
}

/** Is a modal dialog on screen? */
export async function dialogVisible(page) {
  return page.locator('.monaco-dialog-box').isVisible();
}

/** Picks the quick-pick row holding `text` (the quick pick must be open). */
export async function pickRow(page, text) {
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
  await row.waitFor({ state: 'visible', timeout: 30_000 });
  await row.click();
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
}
