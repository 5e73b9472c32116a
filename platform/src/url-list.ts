import { z } from 'zod';

/**
 * A setting that lists URLs, comma-separated (SPEC §9: the brokers of a cluster, the instances of a
 * service), each checked to be a URL of one of `protocols`. Spaces and empty entries are ignored,
 * and a URL named twice counts once. `shown` is how an entry appears in an error (e.g. without its
 * password).
 */
export function urlList(
  value: string,
  options: { what: string; protocols: readonly string[]; shown?: (url: string) => string },
): string[] {
  const shown = options.shown ?? ((url: string) => url);
  const urls = [
    ...new Set(
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== ''),
    ),
  ];
  if (urls.length === 0) throw new TypeError(`no ${options.what} URL given`);
  for (const url of urls) {
    let protocol: string;
    try {
      protocol = new URL(url).protocol;
    } catch {
      throw new TypeError(`not a URL: ${shown(url)}`);
    }
    if (!options.protocols.includes(protocol)) {
      const allowed = options.protocols.map((allowedProtocol) => `${allowedProtocol}//`).join(' or ');
      throw new TypeError(`not an ${allowed} URL: ${shown(url)}`);
    }
  }
  return urls;
}

/**
 * A config key holding such a list (`fallback` when unset): kept as written, checked at start-up
 * by `parse` (`brokerUrls`, `serviceUrls`), whose error becomes the key's config error.
 */
export const urlListSchema = (fallback: string, parse: (value: string) => string[]) =>
  z
    .string()
    .default(fallback)
    .superRefine((value, context) => {
      try {
        parse(value);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
      }
    });
