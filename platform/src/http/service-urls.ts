import { urlList, urlListSchema } from '../url-list';

/**
 * The instances a `*_SERVICE_URL` setting names (SPEC §9): one base URL, or several separated by
 * commas — the instances of one service, which callers spread their requests over and fail over
 * between. Each must be an http(s) URL; a URL named twice counts once.
 */
export function serviceUrls(value: string): string[] {
  return urlList(value, { what: 'service', protocols: ['http:', 'https:'] });
}

/** A config key that holds `serviceUrls` (`fallback` when unset): kept as written, checked at start-up. */
export const serviceUrlsSchema = (fallback: string) => urlListSchema(fallback, serviceUrls);
