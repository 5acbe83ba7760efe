import { createHmac } from "node:crypto";
import { VisitorPassConfigError } from "../../core/errors.js";

/** The fewest bytes a signing secret may have (Standard Webhooks asks for 24 to 64). */
export const MIN_SECRET_BYTES = 24;
const PREFIX = "whsec_";
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The key of a webhook secret: `whsec_<base64>` (as Standard Webhooks libraries and Svix print
 * them) is the base64-decoded bytes; any other string is its own UTF-8 bytes. Either way at least
 * 24 bytes, else a `VisitorPassConfigError`.
 */
export function secretKey(secret: unknown): Buffer {
  if (typeof secret !== "string" || secret === "") {
    throw new VisitorPassConfigError("secret", secret, "must be a string: whsec_<base64>, or raw");
  }
  let key: Buffer;
  if (secret.startsWith(PREFIX)) {
    const encoded = secret.slice(PREFIX.length);
    if (!BASE64.test(encoded) || encoded.length % 4 !== 0) {
      throw new VisitorPassConfigError("secret", "whsec_…", "the part after whsec_ must be base64");
    }
    key = Buffer.from(encoded, "base64");
  } else {
    key = Buffer.from(secret, "utf8");
  }
  if (key.length < MIN_SECRET_BYTES) {
    throw new VisitorPassConfigError(
      "secret",
      `${key.length} bytes`,
      `must be at least ${MIN_SECRET_BYTES} bytes (e.g. whsec_ and the base64 of 32 random bytes)`,
    );
  }
  return key;
}

/**
 * The `webhook-signature` header of one attempt, per Standard Webhooks: `v1,` and the base64 of
 * the HMAC-SHA256 of `<id>.<timestamp>.<body>` under the secret's key.
 */
export function signature(key: Buffer, id: string, timestamp: number, body: string): string {
  const mac = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
  return `v1,${mac}`;
}
