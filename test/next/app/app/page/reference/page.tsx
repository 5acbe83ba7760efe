import { redirect } from "next/navigation";
import { clearVisitor, requireVisitor } from "visitor-pass/next";
import { REFERENCE_SCOPE } from "../../../guards";

async function finish() {
  "use server";
  await requireVisitor(REFERENCE_SCOPE);
  await clearVisitor();
  redirect("/page/thanks");
}

/** A Server Component guarded by requireVisitor, with a Server Action that ends the visit. */
export default async function Reference() {
  const visitor = await requireVisitor(REFERENCE_SCOPE);
  return (
    <main>
      <h1>Reference for {visitor.fullName}</h1>
      <form action={finish}>
        <button type="submit">Send the reference</button>
      </form>
    </main>
  );
}
