import type { NextRequest } from "next/server";
import { unsign } from "../../plain/signed";

export const dynamic = "force-dynamic";

/** The plain route again, behind a proxy that does nothing: what Next's proxy costs by itself. */
export function GET(request: NextRequest) {
  return Response.json({ who: unsign(request.cookies.get("user")?.value) });
}
