import { APP_COOKIE_MAX_AGE, CART_COOKIE } from "../../lib";

export function GET() {
  const response = new Response("stored");
  response.headers.append(
    "Set-Cookie",
    `${CART_COOKIE}=kept; Max-Age=${APP_COOKIE_MAX_AGE}; Path=/`,
  );
  return response;
}
