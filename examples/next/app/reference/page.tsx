import { redirect } from "next/navigation";
import { references } from "../../references";
import { clearVisitor, REFERENCE, requireVisitor } from "../../visitor-pass";

async function send(form: FormData) {
  "use server";
  const visitor = await requireVisitor(REFERENCE);
  references.push({ from: visitor.fullName, text: String(form.get("text") ?? "").trim() });
  // The final step: her link does not let this browser in any more.
  await clearVisitor();
  redirect("/thanks");
}

/** Only Ginger, through her link, gets this page; anyone else gets Next's 403 page. */
export default async function ReferencePage() {
  const visitor = await requireVisitor(REFERENCE);
  return (
    <main>
      <p>Hello {visitor.firstName}, Fred asks you for a reference.</p>
      <form action={send}>
        <textarea name="text" required />
        <button type="submit">Send</button>
      </form>
    </main>
  );
}
