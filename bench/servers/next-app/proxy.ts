// The visitor's requests go through the adapter's proxy; the plain routes (/plain/…) and the
// bench's own endpoints do not, as in an app without visitor-pass; nor does /direct/reference,
// where `withVisitor()` runs without a proxy before it. /noop/reference, a plain route, goes
// through a proxy that does nothing.
import { type NextRequest, NextResponse } from "next/server";
import { proxy as visitorProxy } from "./visitor-pass";

export function proxy(request: NextRequest) {
  if (request.nextUrl.pathname === "/noop/reference") return NextResponse.next();
  return visitorProxy(request);
}

export const config = {
  matcher: ["/reference", "/noop/reference"],
};
