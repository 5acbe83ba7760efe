import { withVisitor } from "visitor-pass/next";
import { staff } from "../../guards";
import { describe, json } from "../../lib";

export const GET = withVisitor(staff, (_request, { visitor }) => json(describe(visitor)));
