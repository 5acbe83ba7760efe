import { withVisitor } from "visitor-pass/next";
import { reference } from "../../guards";
import { describe, json } from "../../lib";

export const GET = withVisitor(reference, (_request, { visitor }) => json(describe(visitor), 418));
