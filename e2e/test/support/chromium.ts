import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's `chromium` package; CHROMIUM_PATH names any other Chromium or Chrome binary. */
const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** Where a failing browser test leaves its screenshot (git-ignored, as are jest's results). */
export const SCREENSHOT_DIR = path.resolve(__dirname, '../../../reports/screenshots');

/**
 * The browser tests need a real Chromium and never download one (playwright's own browsers need
 * hosts this machine cannot reach): a missing binary fails the test with how to get one, rather
 * than skipping it, so a green run always means the docs were clicked through.
 */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env, fallback = DEFAULT_CHROMIUM): string {
  const configured = env.CHROMIUM_PATH?.trim();
  const candidate = configured || fallback;
  if (!existsSync(candidate)) {
    throw new Error(
      configured
        ? `CHROMIUM_PATH=${configured} does not exist; point it at a Chromium or Chrome binary.`
        : `The browser tests need Chromium at ${fallback}: install it (\`apt-get install chromium\` on Debian/Ubuntu) ` +
            'or set CHROMIUM_PATH to a Chromium or Chrome binary.',
    );
  }
  return candidate;
}

/**
 * Headless Chromium as it runs on a closed network: no background calls to Google's hosts (they
 * fail, noisily, at every start), no QUIC, no sandbox (CI runs as root). Playwright gives each
 * launch a fresh profile directory. `extraArgs` adds flags (e.g. `--host-resolver-rules` to open the
 * page under another host name).
 */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}

/** What a page reported going wrong: console errors, uncaught exceptions, requests that failed. */
export interface PageTrouble {
  list(): string[];
}

export function watchForTrouble(page: Page): PageTrouble {
  const trouble: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') trouble.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => trouble.push(`uncaught: ${error.message}`));
  page.on('requestfailed', (request) =>
    trouble.push(
      `request failed: ${request.method()} ${request.url()} (${request.failure()?.errorText ?? 'unknown'})`,
    ),
  );
  page.on('response', (response) => {
    if (response.status() >= 400)
      trouble.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
  });
  return { list: () => [...trouble] };
}

/** Runs `steps`; when they throw, saves a full-page screenshot named `name` before rethrowing. */
export async function screenshotOnFailure<T>(page: Page, name: string, steps: () => Promise<T>): Promise<T> {
  try {
    return await steps();
  } catch (error) {
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    const file = path.join(SCREENSHOT_DIR, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    if (error instanceof Error) error.message += `\n(screenshot: ${file})`;
    throw error;
  }
}
