/**
 * The app every framework harness builds, so that one behaviour suite runs unchanged against each.
 *
 * Route table (the same for every framework):
 *
 * | route | guard | answers |
 * |---|---|---|
 * | `GET /` | public | `"home"` |
 * | `GET /public` | public | `"public"` |
 * | `GET /reference`, `POST /reference` | scope `REFERENCE_REQUEST` | JSON `{ visitor, isVisitor, fullName }` |
 * | `POST /reference/finish` | scope `REFERENCE_REQUEST` | clears the visitor, 200 `"done"` |
 * | `GET /any` | `SCOPE_ANY` | as `/reference` |
 * | `GET /staff` | scope `REFERENCE_REQUEST`, bypass when `x-staff: yes` | as `/reference` |
 * | `GET /nolog` | scope `REFERENCE_REQUEST`, `logVisit: false` | as `/reference` |
 * | `GET /apply` | scope `REFERENCE_REQUEST`, `selfService: true` | as `/reference`; others go to the form |
 * | `GET /teapot` | scope `REFERENCE_REQUEST` | status 418, as `/reference` |
| `GET /own-cache` | scope `REFERENCE_REQUEST` | as `/reference`, with its own `Cache-Control: private, max-age=60` |
 * | `GET /references/:id` | scope `REFERENCE_REQUEST`, `match: ownReference` | as `/reference` |
 * | `GET /whoami` | public | JSON `{ visitor, isVisitor }` |
 * | `POST /login` | public | signs the user "fred" in for the session, `"ok"` |
 * | `GET /anon-data` | public | stores `cart = "kept"` in the session, `"stored"` |
 * | `GET /cart` | public | JSON `{ cart }` (`null` when none) |
 * | `/visitors/…` | the self-service pages (`selfService`), at the default `selfServicePath` | |
 * | any method `/seen-url` | public | JSON `{ originalUrl, url, query }` and header `x-seen-url`, as an app middleware mounted after the visitor middleware saw them |
 *
 * Errors are rendered as JSON `{ error: err.name, status, code, message, cause }` with `err.status`
 * (500 when it has none). The app's own session cookie policy is a persistent cookie of
 * `APP_COOKIE_MAX_AGE` seconds, so that a pass's `sessionExpiry` can be told apart from it.
 *
 * Hono has no session: there the visitor is stashed in visitor-pass's encrypted cookie (whose
 * `maxAge` is the app's policy), and "the session" of `/login`, `/anon-data` and `/cart` is the
 * app's own cookies, read by an app middleware before the visitor middleware.
 */
export const REFERENCE_SCOPE = "REFERENCE_REQUEST";

/** Where every harness mounts the self-service pages (the default `selfServicePath`). */
export const SELF_SERVICE_PATH = "/visitors";

/** The `Cache-Control` the `/own-cache` route sets itself. */
export const OWN_CACHE_CONTROL = "private, max-age=60";

/** The app's own session cookie lifetime, in seconds. */
export const APP_COOKIE_MAX_AGE = 86_400;

/**
 * The `match` of `/references/:id`: a pass sees the reference its context names and nothing
 * else; a request with `?explode` makes it throw (the guard must then refuse).
 */
export function ownReference(
  visitor: { context: Record<string, unknown> | null },
  request: { params: Readonly<Record<string, string>>; query: URLSearchParams },
): boolean {
  if (request.query.has("explode")) throw new Error("the reference lookup failed");
  return visitor.context?.referenceId === request.params.id;
}
