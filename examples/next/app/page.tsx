import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { lastLink, references, rememberLink } from "../references";
import { passes, REFERENCE } from "../visitor-pass";

async function invite() {
  "use server";
  const ginger = await passes.create({
    email: "ginger@example.org",
    firstName: "Ginger",
    lastName: "Rogers",
    scope: REFERENCE,
  });
  const host = (await headers()).get("host");
  rememberLink(passes.tokenise(`http://${host}/reference`, ginger));
  redirect("/");
}

/** Fred's page: he invites Ginger, and reads the references he was sent. */
export default async function Home() {
  await headers(); // rendered for each request
  const link = lastLink();
  return (
    <main>
      <h1>References for Fred</h1>
      <form action={invite}>
        <button type="submit">Invite Ginger</button>
      </form>
      {link && (
        <p>
          A real app emails Ginger this link: <a href={link}>{link}</a>
        </p>
      )}
      {references.length === 0 ? (
        <p>None yet.</p>
      ) : (
        references.map((reference, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: references are only ever appended
          <blockquote key={index}>
            {reference.text}
            <br />— {reference.from}
          </blockquote>
        ))
      )}
    </main>
  );
}
