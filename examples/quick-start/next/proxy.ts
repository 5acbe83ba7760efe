// A token on the URL admits here; the visitor is restored on every request.
export { proxy } from "./visitor-pass";

export const config = { matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"] };
