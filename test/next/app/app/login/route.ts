import { sign, USER_COOKIE } from "../../lib";

export function POST() {
  const response = new Response("ok");
  response.headers.append(
    "Set-Cookie",
    `${USER_COOKIE}=fred.${sign("fred")}; Path=/; HttpOnly; SameSite=Lax`,
  );
  return response;
}
