import { createHmac, timingSafeEqual } from "node:crypto";

const secret = "bench-secret-bench-secret-bench-secret";

function signature(value: string): string {
  return createHmac("sha256", secret).update(value).digest("base64url");
}

/** `value` and its HMAC-SHA256, as a signed cookie's value. */
export function sign(value: string): string {
  return `${value}.${signature(value)}`;
}

/** The value of a signed cookie whose signature holds, or null. */
export function unsign(signed: string | undefined): string | null {
  const dot = signed?.lastIndexOf(".") ?? -1;
  if (signed === undefined || dot < 0) return null;
  const value = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1));
  const expected = Buffer.from(signature(value));
  return given.length === expected.length && timingSafeEqual(given, expected) ? value : null;
}
