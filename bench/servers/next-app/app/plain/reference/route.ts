import type { NextRequest } from "next/server";
import { unsign } from "../signed";

export const dynamic = "force-dynamic";

/** The baseline: the same answer from a route reading a signed cookie (Next's `request.cookies`). */
export function GET(request: NextRequest) {
  return Response.json({ who: unsign(request.cookies.get("user")?.value) });
}
