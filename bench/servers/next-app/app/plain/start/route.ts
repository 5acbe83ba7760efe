import { sign } from "../signed";

export const dynamic = "force-dynamic";

/** The plain variant's session: a signed cookie. */
export function GET() {
  return new Response("ok", {
    headers: {
      "set-cookie": `user=${sign("ginger")}; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax`,
    },
  });
}
