// The configured instance's proxy: the harness configures it (visitorPassNext) before it starts.
export { proxy } from "visitor-pass/next";

export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
