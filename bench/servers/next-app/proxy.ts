// The visitor's requests go through the adapter's proxy; the plain routes (/plain/…) and the
// bench's own endpoints do not, as in an app without visitor-pass; nor does /direct/reference,
// where `withVisitor()` runs without a proxy before it.
export { proxy } from "./visitor-pass";

export const config = {
  matcher: ["/reference"],
};
