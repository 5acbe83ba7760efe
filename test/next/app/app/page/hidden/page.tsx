import { notFound } from "next/navigation";
import { requireVisitor } from "visitor-pass/next";
import { REFERENCE_SCOPE } from "../../../guards";

export default async function Hidden() {
  const visitor = await requireVisitor(REFERENCE_SCOPE, { onRefused: () => notFound() });
  return <h1>Hidden from all but {visitor.fullName}</h1>;
}
