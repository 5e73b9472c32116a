import * as runtime from '@shop/platform';
import * as tools from '@shop/platform/tools';

describe('the platform entry points', () => {
  it('the runtime entry point, which every service loads, exports none of the operator tools', () => {
    const leaked = Object.keys(tools).filter((name) => name in runtime);

    expect(Object.keys(tools)).toContain('replayDeadLetters');
    expect(leaked).toEqual([]);
  });
});
