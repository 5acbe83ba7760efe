import { withVisitor } from "visitor-pass/next";
import { reference } from "../../../guards";

export const POST = withVisitor(reference, (_request, { clear }) => {
  clear();
  return new Response("done");
});
