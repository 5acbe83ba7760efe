import { withVisitor } from "visitor-pass/next";
import { apply } from "../../guards";
import { describe, json } from "../../lib";

export const GET = withVisitor(apply, (_request, { visitor }) => json(describe(visitor)));
