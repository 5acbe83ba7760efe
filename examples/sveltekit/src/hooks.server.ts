import { randomBytes } from "node:crypto";
import type { Handle, ServerInit } from "@sveltejs/kit";
import {
  type GuardOptions,
  selfService,
  userIsVisitor,
  visitorPassFetch,
} from "visitor-pass/fetch";
import { env } from "$env/dynamic/private";
import { EARLY_ACCESS, passes, REFERENCE } from "$lib/server/passes";

const vp = visitorPassFetch(passes, {
  // Keys the encrypted cookie the visitor is kept in (32+ characters).
  secret: env.VISITOR_PASS_SECRET ?? randomBytes(32).toString("hex"),
});
// The self-service form, at passes.config.selfServicePath (/visitors).
const selfServicePages = selfService(passes);

// The guarded routes, by route id; each guard is made (and checked) once.
const guards: Record<string, GuardOptions<Request>> = {
  "/reference": userIsVisitor({ scope: REFERENCE }),
  // Anyone without a pass is sent to the self-service form.
  "/early-access": userIsVisitor({ scope: EARLY_ACCESS, selfService: true }),
};

export const init: ServerInit = async () => {
  await passes.migrate();
};

export const handle: Handle = async ({ event, resolve }) => {
  const clientAddress = event.getClientAddress();
  const page = await selfServicePages(event.request, { clientAddress });
  if (page) return page;

  const guard = event.route.id ? guards[event.route.id] : undefined;
  const result = await vp.handle(event.request, { guard, clientAddress });
  // A bad token, the landing's redirect off its token, a refusal: visitor-pass answers.
  if (result.kind === "respond") return result.response;

  event.locals.visitor = result.visitor;
  event.locals.visitorPass = result;
  // The page, with the visitor's cookie; a guarded visit is logged with its status.
  return result.finish(await resolve(event));
};
