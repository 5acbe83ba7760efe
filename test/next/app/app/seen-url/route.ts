import { withVisitor } from "visitor-pass/next";
import { json } from "../../lib";

/** The URL as a route after visitor-pass sees it: `withVisitor` hands it the request. */
const seen = withVisitor(null, (request) => {
  const url = new URL(request.url);
  const path = `${url.pathname}${url.search}`;
  const response = json({
    originalUrl: path,
    url: path,
    query: Object.fromEntries(url.searchParams),
  });
  response.headers.set("x-seen-url", path);
  return response;
});

export {
  seen as DELETE,
  seen as GET,
  seen as HEAD,
  seen as OPTIONS,
  seen as PATCH,
  seen as POST,
  seen as PUT,
};
