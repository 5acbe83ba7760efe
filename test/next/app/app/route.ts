export const GET = () => new Response("home");
