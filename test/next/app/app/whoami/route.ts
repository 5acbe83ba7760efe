import { currentVisitor } from "visitor-pass/next";
import { describe, json } from "../../lib";

// No guard: the visitor the proxy restored, read through Next's cookies() and headers().
export async function GET() {
  const { visitor, isVisitor } = describe(await currentVisitor());
  return json({ visitor, isVisitor });
}
