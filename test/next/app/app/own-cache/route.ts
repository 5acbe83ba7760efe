import { withVisitor } from "visitor-pass/next";
import { reference } from "../../guards";
import { describe, json } from "../../lib";

export const GET = withVisitor(reference, (_request, { visitor }) => {
  const response = json(describe(visitor));
  response.headers.set("Cache-Control", "private, max-age=60");
  return response;
});
