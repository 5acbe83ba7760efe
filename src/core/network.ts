import { isIPv4, isIPv6 } from "node:net";
import { remembering } from "./remembering.js";

/**
 * The client network of an address: the /24 of an IPv4 address (`203.0.113.0`), the /48 of an
 * IPv6 one (`2001:db8:1::`). IPv4-mapped IPv6 addresses count as IPv4. Anything else is returned
 * unchanged.
 */
export const networkOf: (address: string) => string = remembering(computeNetwork, 1_000);

function computeNetwork(address: string): string {
  const ip = address.startsWith("::ffff:") && isIPv4(address.slice(7)) ? address.slice(7) : address;
  if (isIPv4(ip)) return `${ip.split(".").slice(0, 3).join(".")}.0`;
  if (isIPv6(ip)) return `${expand(ip).slice(0, 3).join(":")}::`;
  return address;
}

function expand(ip: string): string[] {
  const [head = "", tail] = ip.split("%")[0]!.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const missing = 8 - left.length - right.length;
  return [...left, ...Array(Math.max(missing, 0)).fill("0"), ...right].map((group) =>
    (Number.parseInt(group, 16) || 0).toString(16),
  );
}

/** The address a visit log keeps under the `anonymizeIp` option. */
export function loggedAddress(ip: string | null, mode: false | "truncate" | "drop"): string | null {
  if (ip === null || mode === "drop") return null;
  return mode === "truncate" ? networkOf(ip) : ip;
}
