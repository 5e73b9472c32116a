import { chromiumPath } from './support/chromium';

describe('finding Chromium for the browser tests', () => {
  it('when CHROMIUM_PATH names a binary that exists, that binary is used', () => {
    expect(chromiumPath({ CHROMIUM_PATH: process.execPath }, '/nowhere/chromium')).toBe(process.execPath);
  });

  it('without CHROMIUM_PATH, the Debian path is used when it exists', () => {
    expect(chromiumPath({}, process.execPath)).toBe(process.execPath);
  });

  it('when no Chromium is found, the error says to install it or set CHROMIUM_PATH', () => {
    expect(() => chromiumPath({}, '/nowhere/chromium')).toThrow(
      /Chromium at \/nowhere\/chromium: install it \(`apt-get install chromium` .*\) or set CHROMIUM_PATH/,
    );
  });

  it('when CHROMIUM_PATH names nothing, the error names it instead of falling back', () => {
    expect(() => chromiumPath({ CHROMIUM_PATH: '/nowhere/chrome' }, process.execPath)).toThrow(
      'CHROMIUM_PATH=/nowhere/chrome does not exist',
    );
  });
});
