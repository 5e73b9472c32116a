import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DOCS_COMMAND, renderAsyncApiYaml, renderOpenApiJson } from '../../tools';

const root = path.join(__dirname, '..', '..');
const checkedIn = (file: string) => readFileSync(path.join(root, file), 'utf8');

/** A failure here means a contract changed and the documents were not regenerated. */
describe('the checked-in API documents', () => {
  it.each([
    ['openapi.json', renderOpenApiJson],
    ['asyncapi.yaml', renderAsyncApiYaml],
  ])('contracts/%s equals a freshly generated one', (file, render) => {
    const fresh = render();
    const stale = checkedIn(file) !== fresh;

    if (stale) throw new Error(`contracts/${file} is stale: run \`${DOCS_COMMAND}\` (tsx scripts/generate-docs.ts) and commit the result.`);
    expect(stale).toBe(false);
  });
});
