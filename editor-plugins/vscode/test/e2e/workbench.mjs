// Driving the VS Code workbench (code-server) through playwright-core: commands, files, ghost text, webviews.
import { sleep, waitFor } from './procs.mjs';

/** Runs a command by its palette label (F1, type, Enter). */
export async function runCommand(page, label) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(`>${label}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ state: 'visible', timeout: 10_000 });
  await sleep(200);
  await input.press('Enter');
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
