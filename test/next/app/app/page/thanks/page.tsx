import { currentVisitor } from "visitor-pass/next";

export default async function Thanks() {
  const visitor = await currentVisitor();
  return <h1>Thanks{visitor ? `, ${visitor.firstName}` : ""}</h1>;
}
