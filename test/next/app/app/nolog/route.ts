import { withVisitor } from "visitor-pass/next";
import { nolog } from "../../guards";
import { describe, json } from "../../lib";

export const GET = withVisitor(nolog, (_request, { visitor }) => json(describe(visitor)));
