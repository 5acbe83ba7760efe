/**
 * Browser families of user agents, for the sharing analytics.
 *
 * Browsers are told apart by Bowser (MIT, maintained, typed, no dependencies), which also knows
 * the big crawlers. It was chosen over `ua-parser-js`: its 2.x line is AGPL, and its MIT 1.x line
 * is in maintenance only, ships no types and knows no crawlers. A parser gives a browser's name;
 * what it cannot know is which programs fetch a link without a person behind them (chat and mail
 * link previews, scanners, HTTP libraries), so two short lists below cover those first.
 */
import { type ParsedResult, parse as parseUserAgent } from "bowser";
import { remembering } from "./remembering.js";

/**
 * A browser family: one of the named ones, `"bot"` (crawlers, link scanners and previews),
 * `"http-client"` (curl, wget, HTTP libraries), `"unknown"` (no or an unreadable user agent), or
 * the name of another browser (e.g. `"Vivaldi"`), at most 32 characters.
 */
export type BrowserFamily =
  | "Chrome"
  | "Edge"
  | "Firefox"
  | "Safari"
  | "Opera"
  | "Samsung Internet"
  | "bot"
  | "http-client"
  | "unknown"
  | (string & {});

/** The longest family stored (the `browser_family` column). */
export const MAX_FAMILY_LENGTH = 32;

/** Command-line tools and HTTP libraries, by the product token they start with. */
const HTTP_CLIENT =
  /^(?:curl|wget|httpie|python-requests|python-urllib|python-httpx|python\/|aiohttp|httpx|go-http-client|okhttp|java\/|apache-httpclient|jakarta commons-httpclient|axios|node-fetch|undici|node$|got[\s/(]|deno\/|bun\/|postmanruntime|insomnia|libwww-perl|lwp::|guzzlehttp|ruby|faraday|dart[\s/]|reqwest|restsharp|winhttp|microsoft-cryptoapi|powershell|cfnetwork|http_request2|php|rest-client|typhoeus|scrapy|libcurl)/i;
const HTTP_CLIENT_ANYWHERE = /\bWindowsPowerShell\/|\bWinHttp\b/i;

/**
 * Programs that fetch links with no person behind them: crawlers, mail link scanners (Office's
 * link checks, security gateways), chat link previews, headless browsers and monitors.
 */
const BOT =
  /(?<!cu)bot\b|bot[/-]|crawl|spider|slurp|archiver|preview|scanner|externalhit|external(?:fetcher|agent|ads)|facebookcatalog|whatsapp|telegram|skypeuri|headless|phantomjs|lighthouse|ms-office|microsoft office|msoffice|safelinks|google-safety|googleimageproxy|yahoomailproxy|proofpoint|barracuda|mimecast|validator|monitor|pingdom|uptime|check_http|feedfetcher|embedly|iframely|chatgpt-user|perplexity/i;

const NAMED: Record<string, BrowserFamily> = {
  Chrome: "Chrome",
  Chromium: "Chrome",
  "Microsoft Edge": "Edge",
  Firefox: "Firefox",
  Safari: "Safari",
  Opera: "Opera",
  "Opera Coast": "Opera",
  "Samsung Internet for Android": "Samsung Internet",
};

/** Names a parser gives when it recognised no browser. */
const NO_BROWSER = new Set(["", "Generic", "Mozilla"]);

/** Families of recent user agents: a site's visitors bring few distinct ones. */
const familyOfRecent = remembering(familyOf, 500);

/** The browser family of a `User-Agent` header (see `BrowserFamily`). */
export function browserFamily(userAgent: string | null | undefined): BrowserFamily {
  const ua = typeof userAgent === "string" ? userAgent.trim() : "";
  return ua === "" ? "unknown" : familyOfRecent(ua);
}

function familyOf(ua: string): BrowserFamily {
  if (HTTP_CLIENT.test(ua) || HTTP_CLIENT_ANYWHERE.test(ua)) return "http-client";
  if (BOT.test(ua)) return "bot";
  let parsed: ParsedResult;
  try {
    parsed = parseUserAgent(ua);
  } catch {
    return "unknown";
  }
  if (parsed.platform.type === "bot") return "bot";
  const name = (parsed.browser.name ?? "").trim();
  if (NO_BROWSER.has(name)) return "unknown";
  return NAMED[name] ?? name.slice(0, MAX_FAMILY_LENGTH);
}
