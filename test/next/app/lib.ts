import { createHmac, timingSafeEqual } from "node:crypto";
import type { Visitor, VisitorPassHttpError } from "visitor-pass/next";

/** The app's own cookies: who is signed in (signed), and a bit of anonymous data. */
export const USER_COOKIE = "app_user";
export const CART_COOKIE = "app_cart";
export const APP_COOKIE_MAX_AGE = 86_400;
const APP_SECRET = "behaviour-suite-app-secret-of-32+chars";

export const sign = (value: string) =>
  createHmac("sha256", APP_SECRET).update(value).digest("base64url");

export function cookie(request: Request, name: string): string | null {
  for (const pair of (request.headers.get("cookie") ?? "").split(";")) {
    const at = pair.indexOf("=");
    if (at > 0 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return null;
}

/** The signed-in user of the app's own cookie, or null. */
export function userOf(request: Request): string | null {
  const value = cookie(request, USER_COOKIE);
  const dot = value?.lastIndexOf(".") ?? -1;
  if (!value || dot < 0) return null;
  const user = value.slice(0, dot);
  const expected = Buffer.from(sign(user));
  const given = Buffer.from(value.slice(dot + 1));
  return expected.length === given.length && timingSafeEqual(expected, given) ? user : null;
}

export const json = (body: unknown, status = 200) => Response.json(body, { status });

/** Errors as the route table renders them: JSON, with the error's status. */
export function errorResponse(error: Error & { status?: unknown; code?: unknown }): Response {
  const status = typeof error.status === "number" ? error.status : 500;
  return json(
    {
      error: error.name ?? "Error",
      status,
      code: error.code ?? null,
      message: error.message ?? null,
      cause: error.cause instanceof Error ? error.cause.message : null,
    },
    status,
  );
}

/** A refusal rendered as JSON, keeping the headers visitor-pass set (cookie, Retry-After). */
export function refusal(error: VisitorPassHttpError, response: Response): Response {
  const rendered = errorResponse(error);
  response.headers.forEach((value, name) => {
    if (!["content-type", "content-length", "set-cookie"].includes(name)) {
      rendered.headers.set(name, value);
    }
  });
  for (const line of response.headers.getSetCookie()) rendered.headers.append("Set-Cookie", line);
  return rendered;
}

export function describe(visitor: Visitor | null) {
  return {
    visitor: visitor?.uuid ?? null,
    isVisitor: visitor !== null,
    fullName: visitor?.fullName ?? null,
  };
}
