/**
 * Links that ask the app to install something: `?install=<url>` (also what a `web+webmk:` link and
 * a shared URL become, see vite.config.ts), and the page address without it once taken.
 */

/** The URL a page address asks to install, if any; a `web+webmk:` prefix is dropped. */
export function installRequest(href: string): { url: string; rest: string } | undefined {
  const page = new URL(href);
  let wanted = page.searchParams.get('install') ?? firstUrl(page.searchParams.get('shared') ?? '');
  if (wanted === null || wanted === undefined || wanted.trim() === '') return undefined;
  wanted = wanted.trim();
  // web+webmk:https://host/a.zip, or web+webmk://host/a.zip (https meant).
  if (/^web\+webmk:/i.test(wanted)) {
    wanted = wanted.replace(/^web\+webmk:/i, '');
    if (!/^https?:\/\//i.test(wanted)) wanted = `https://${wanted.replace(/^\/+/, '')}`;
  }
  page.searchParams.delete('install');
  page.searchParams.delete('shared');
  return { url: wanted, rest: page.href };
}

function firstUrl(text: string): string | undefined {
  return /https?:\/\/\S+/.exec(text)?.[0];
}
