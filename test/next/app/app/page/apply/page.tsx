import { requireVisitor } from "visitor-pass/next";
import { REFERENCE_SCOPE } from "../../../guards";

export default async function Apply() {
  const visitor = await requireVisitor(REFERENCE_SCOPE, { selfService: true });
  return <h1>Welcome {visitor.fullName}</h1>;
}
