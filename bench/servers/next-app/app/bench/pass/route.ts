import { passes } from "../../../visitor-pass";

export const dynamic = "force-dynamic";

/** One unlimited pass for the bench's visitor. */
export async function POST() {
  const visitor = await passes.create({
    email: "ginger@example.org",
    scope: "REFERENCE_REQUEST",
    expiresAt: null,
  });
  return Response.json({ uuid: visitor.uuid });
}
