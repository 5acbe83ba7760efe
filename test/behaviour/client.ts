import makeFetchCookie from "fetch-cookie";
import { CookieJar } from "tough-cookie";

export type RedirectMode = "follow" | "manual";

export interface ClientRequest extends Omit<RequestInit, "redirect"> {
  /** `"manual"` returns a 302 as it is, to inspect it; the client's default otherwise. */
  redirect?: RedirectMode;
}

/**
 * One person with a browser: keeps the cookies the server sets (fetch-cookie over tough-cookie)
 * and sends them back, following redirects unless told not to.
 */
export class Client {
  readonly jar = new CookieJar();
  readonly #fetch: typeof fetch;

  constructor(
    readonly baseUrl: string,
    readonly options: { redirect?: RedirectMode } = {},
  ) {
    this.#fetch = makeFetchCookie(fetch, this.jar) as unknown as typeof fetch;
  }

  /** Requests `path` (relative to the app, query string included). */
  request(path: string, init: ClientRequest = {}): Promise<Response> {
    const { redirect = this.options.redirect ?? "follow", ...rest } = init;
    return this.#fetch(`${this.baseUrl}${path}`, { ...rest, redirect });
  }

  get(path: string, init: ClientRequest = {}): Promise<Response> {
    return this.request(path, { ...init, method: "GET" });
  }

  post(path: string, init: ClientRequest = {}): Promise<Response> {
    return this.request(path, { ...init, method: "POST" });
  }

  /** Status and parsed JSON body (or `null` for a body that is not JSON). */
  async json<T = any>(
    path: string,
    init: ClientRequest = {},
  ): Promise<{ status: number; body: T }> {
    const response = await this.request(path, init);
    const text = await response.text();
    let body: any = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    return { status: response.status, body };
  }

  /** The current value of cookie `name` in this client's jar. */
  async cookie(name: string): Promise<string | undefined> {
    const cookies = await this.jar.getCookies(this.baseUrl);
    return cookies.find((cookie) => cookie.key === name)?.value;
  }
}

/** A response's `Set-Cookie` headers. */
export function setCookies(response: Response): string[] {
  return response.headers.getSetCookie();
}
