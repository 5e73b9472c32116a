import { z } from 'zod';

/**
 * The instances a `*_SERVICE_URL` setting names (SPEC §9): one base URL, or several separated by
 * commas — the instances of one service, which callers spread their requests over and fail over
 * between. Each must be an http(s) URL; a URL named twice counts once.
 */
export function serviceUrls(value: string): string[] {
  const urls = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (urls.length === 0) throw new TypeError('no service URL given');
  for (const url of urls) {
    let protocol: string;
    try {
      protocol = new URL(url).protocol;
    } catch {
      throw new TypeError(`not a URL: ${url}`);
    }
    if (protocol !== 'http:' && protocol !== 'https:')
      throw new TypeError(`not an http:// or https:// URL: ${url}`);
  }
  return [...new Set(urls)];
}

/** A config key that holds `serviceUrls` (`fallback` when unset): kept as written, checked at start-up. */
export const serviceUrlsSchema = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .superRefine((value, context) => {
      try {
        serviceUrls(value);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
      }
    });
