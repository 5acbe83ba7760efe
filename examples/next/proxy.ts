// A token on the URL admits here, and the visitor is restored from its cookie on every request.
export { proxy } from "./visitor-pass";

export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
