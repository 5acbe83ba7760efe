import { redirect } from "next/navigation";
import { clearVisitor, requireVisitor } from "../../visitor-pass";

const references: string[] = [];

async function send(form: FormData) {
  "use server";
  const visitor = await requireVisitor("REFERENCE_REQUEST");
  references.push(`${visitor.fullName}: ${form.get("text")}`);
  await clearVisitor(); // the final step: this browser loses its access at once
  redirect("/");
}

export default async function Reference() {
  const visitor = await requireVisitor("REFERENCE_REQUEST"); // forbidden() for anyone else
  return (
    <form action={send}>
      <p>Hello {visitor.firstName}</p>
      <textarea name="text" />
      <button type="submit">Send</button>
    </form>
  );
}
