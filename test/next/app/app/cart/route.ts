import { CART_COOKIE, cookie, json } from "../../lib";

export const GET = (request: Request) => json({ cart: cookie(request, CART_COOKIE) });
