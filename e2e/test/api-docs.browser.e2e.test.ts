import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium, screenshotOnFailure, watchForTrouble, type PageTrouble } from './support/chromium';
import { startSystem, type RunningSystem } from './support/system';

/**
 * Swagger UI renders the whole document in a real browser; on a busy two-core CI machine one step
 * (open, expand an operation) has been seen taking 10–20 s, so the ceilings are generous. A wrong
 * server fails at once anyway (Swagger UI shows "Failed to fetch" without waiting).
 */
const STEP_TIMEOUT_MS = 45_000;
const SETUP_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 90_000;
const OTHER_HOST = 'shop.test';

/**
 * The API docs as a person uses them: Swagger UI at /docs in a real (headless) Chromium, opened
 * from 127.0.0.1 (not the `localhost` a document might name), "Try it out" and "Execute", the
 * status read off the page. The page runs under the gateway's own Content-Security-Policy, so a
 * document whose server is another origin fails here exactly as it fails in a browser.
 *
 * One page for both tests (rendering the document is the slow part): the products call needs no
 * token, and the order test authorises itself, so neither depends on the other having run.
 */
describe('the API docs in a browser', () => {
  let browser: Browser;
  let system: RunningSystem;
  let page: Page;
  let trouble: PageTrouble;

  beforeAll(async () => {
    // The browser first: without Chromium the test fails at once, saying how to get it.
    // `shop.test` stands for any plain-http host that is not localhost (a staging box, a LAN address).
    browser = await launchChromium([`--host-resolver-rules=MAP ${OTHER_HOST} 127.0.0.1`]);
    system = await startSystem();
    page = await browser.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    trouble = watchForTrouble(page);
    await screenshotOnFailure(page, 'api-docs-open', async () => {
      await page.goto(`${system.url}/docs/`);
      await operation('get', '/api/v1/products').waitFor();
    });
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await browser?.close();
    await system?.stop();
  });

  /** The block of one operation, found by method and exact path. */
  const operation = (method: string, path: string, onPage: Page = page): Locator =>
    onPage
      .locator(`.opblock-${method}`)
      .filter({ has: onPage.locator(`.opblock-summary-path[data-path="${path}"]`) });

  /** Expands the operation, presses "Try it out", lets `fill` edit the form, presses "Execute". */
  async function tryItOut(
    block: Locator,
    fill: (block: Locator) => Promise<void> = async () => {},
  ): Promise<void> {
    await block.locator('.opblock-summary').click();
    await block.getByRole('button', { name: 'Try it out' }).click();
    await fill(block);
    await block.getByRole('button', { name: 'Execute' }).click();
  }

  /**
   * What Swagger UI shows after Execute: the URL it called (without the query the form fills in
   * from the document's examples), the status (or, when the browser refused the call, "Failed to
   * fetch" and no status), and what the page reported going wrong so far.
   */
  async function shownOutcome(block: Locator, onPage: Page = page, pageTrouble: PageTrouble = trouble) {
    const live = block.locator('.live-responses-table .response');
    await live.waitFor();
    return {
      requestUrl: (await block.locator('.request-url pre').innerText()).trim().split('?')[0],
      status: (await live.locator('.response-col_status').innerText()).trim(),
      trouble: pageTrouble.list(),
      // Swagger UI's own warnings about the document (a red box at the top of the page).
      warnings: await onPage.locator('.errors-wrapper').allInnerTexts(),
    };
  }

  const shownBody = async (block: Locator) =>
    JSON.parse(
      await block
        .locator('.live-responses-table .response .response-col_description pre')
        .first()
        .innerText(),
    );

  async function authorize(token: string): Promise<void> {
    await page.getByRole('button', { name: 'Authorize' }).first().click();
    const dialog = page.locator('.modal-ux');
    await dialog.getByRole('textbox').fill(token);
    await dialog.getByRole('button', { name: 'Apply credentials' }).click();
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
  }

  it(
    'Try it out on GET /api/v1/products shows 200 from the gateway the page came from, with no errors',
    () =>
      screenshotOnFailure(page, 'api-docs-get-products', async () => {
        // Arrange
        const block = operation('get', '/api/v1/products');

        // Act
        await tryItOut(block);
        const outcome = await shownOutcome(block);

        // Assert
        expect(outcome).toEqual({
          requestUrl: `${system.url}/api/v1/products`,
          status: '200',
          trouble: [],
          warnings: [],
        });
        const names = (await shownBody(block)).items.map((product: { name: string }) => product.name);
        expect(names).toContain('Wireless Mouse');
      }),
    TEST_TIMEOUT_MS,
  );

  it(
    'an authorised Try it out on POST /api/v1/orders shows 201 with the order, with no errors',
    () =>
      screenshotOnFailure(page, 'api-docs-post-orders', async () => {
        // Arrange
        await authorize(await system.token(42));
        const block = operation('post', '/api/v1/orders');

        // Act
        await tryItOut(block, async (form) => {
          const seedScenario = {
            items: [
              { product_id: 1, quantity: 2 },
              { product_id: 2, quantity: 1 },
            ],
          };
          await form.locator('textarea.body-param__text').fill(JSON.stringify(seedScenario));
        });
        const outcome = await shownOutcome(block);

        // Assert
        expect(outcome).toEqual({
          requestUrl: `${system.url}/api/v1/orders`,
          status: '201',
          trouble: [],
          warnings: [],
        });
        expect(await shownBody(block)).toMatchObject({
          user_id: 42,
          status: 'pending',
          total_amount: '205.48',
        });
      }),
    TEST_TIMEOUT_MS,
  );
  it(
    'opened from a plain-http host other than localhost, the page draws and Try it out calls that host',
    async () => {
      // Arrange: the same gateway under another name, in a page of its own.
      const other = await browser.newPage();
      other.setDefaultTimeout(STEP_TIMEOUT_MS);
      const otherTrouble = watchForTrouble(other);
      const origin = system.url.replace('127.0.0.1', OTHER_HOST);
      try {
        await screenshotOnFailure(other, 'api-docs-other-host', async () => {
          // Act
          await other.goto(`${origin}/docs/`);
          const block = operation('get', '/api/v1/products', other);
          await tryItOut(block);
          const outcome = await shownOutcome(block, other, otherTrouble);

          // Assert: Chromium's one notice for any plain-http origin aside — it ignores helmet's
          // Cross-Origin-Opener-Policy there (the header protects the page once it is served over https).
          outcome.trouble = outcome.trouble.filter(
            (line) => !line.includes('Cross-Origin-Opener-Policy header has been ignored'),
          );
          expect(outcome).toEqual({
            requestUrl: `${origin}/api/v1/products`,
            status: '200',
            trouble: [],
            warnings: [],
          });
        });
      } finally {
        await other.close();
      }
    },
    TEST_TIMEOUT_MS,
  );
});
