import { withVisitor } from "visitor-pass/next";
import { ownReference } from "../../../guards";
import { describe, json } from "../../../lib";

export const GET = withVisitor<{ params: Promise<{ id: string }> }>(
  ownReference,
  (_request, { visitor }) => json(describe(visitor)),
);
