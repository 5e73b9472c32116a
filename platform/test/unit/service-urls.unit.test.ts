import { z } from 'zod';
import { ConfigError, parseConfig } from '../../src/config';
import { serviceUrls, serviceUrlsSchema } from '../../src/http/service-urls';

describe('service URL lists (PRODUCT_SERVICE_URL and the like)', () => {
  it('one URL is a list of one', () => {
    expect(serviceUrls('http://127.0.0.1:8001')).toEqual(['http://127.0.0.1:8001']);
  });

  it('several URLs, comma-separated, are the instances in the order written, spaces and empty entries ignored', () => {
    expect(serviceUrls(' http://a:8001 ,http://b:8011,, https://c/api ')).toEqual([
      'http://a:8001',
      'http://b:8011',
      'https://c/api',
    ]);
  });

  it('a URL named twice counts once', () => {
    expect(serviceUrls('http://a:8001,http://a:8001')).toEqual(['http://a:8001']);
  });

  it('an entry that is not an http(s) URL is refused, naming it', () => {
    expect(() => serviceUrls('http://a:8001,b:8011')).toThrow('not an http:// or https:// URL: b:8011');
    expect(() => serviceUrls('http://a:8001,not a url')).toThrow('not a URL: not a url');
    expect(() => serviceUrls(' , ')).toThrow('no service URL given');
  });

  it('as a config key, a bad list stops start-up naming the key, and an unset key takes its default', () => {
    const shape = { PRODUCT_SERVICE_URL: serviceUrlsSchema('http://127.0.0.1:8001') };

    expect(parseConfig(shape, {}).PRODUCT_SERVICE_URL).toBe('http://127.0.0.1:8001');
    expect(parseConfig(shape, { PRODUCT_SERVICE_URL: 'http://a:1,http://b:2' }).PRODUCT_SERVICE_URL).toBe(
      'http://a:1,http://b:2',
    );
    expect(() => parseConfig(shape, { PRODUCT_SERVICE_URL: 'http://a:1,ftp://b' })).toThrow(ConfigError);
    expect(() => parseConfig(shape, { PRODUCT_SERVICE_URL: 'http://a:1,ftp://b' })).toThrow(
      /PRODUCT_SERVICE_URL: not an http/,
    );
    expect(z.object(shape).safeParse({ PRODUCT_SERVICE_URL: '' }).success).toBe(false);
  });
});
