import { withVisitor } from "visitor-pass/next";
import { any } from "../../guards";
import { describe, json } from "../../lib";

export const GET = withVisitor(any, (_request, { visitor }) => json(describe(visitor)));
