import { AsyncLocalStorage } from "node:async_hooks";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import express, {
  type ErrorRequestHandler,
  type Request,
  type RequestHandler,
  type Response,
} from "express";
import session from "express-session";
// In your app: from "visitor-pass" and "visitor-pass/express".
import {
  clearVisitor,
  selfService,
  userIsVisitor,
  visitorPass,
} from "../../src/adapters/express/index.js";
import {
  MalformedVisitorToken,
  type Visitor,
  VisitorAccessDenied,
  type VisitorPass,
  VisitorPassValidationError,
} from "../../src/index.js";
import { formatDate } from "./dates.js";
import { type Html, html } from "./html.js";
import { EARLY_ACCESS, REFERENCE_REQUEST } from "./scopes.js";
import { DemoState, type DemoUser, FRED, userById } from "./state.js";
import { type AskValues, askForm } from "./views/ask.js";
import { earlyAccessPage } from "./views/early-access.js";
import * as errorViews from "./views/errors.js";
import type { FieldErrors } from "./views/forms.js";
import { anonymousHome, fredHome, type RequestRow, type RequestStatus } from "./views/home.js";
import { layout, type Who } from "./views/layout.js";
import { outboxPage } from "./views/outbox.js";
import {
  type ReferenceRequest,
  referenceForm,
  referenceReview,
  referenceThanks,
} from "./views/reference.js";
import { selfServiceForm, selfServiceSent } from "./views/self-service.js";

declare module "express-session" {
  interface SessionData {
    user?: DemoUser;
    /** A one-off message for the next page. */
    notice?: string;
    /** The reference just sent, for the thank-you page after the final step's redirect. */
    thanks?: { firstName: string; requesterName: string };
  }
}

/** The scope of the passes Fred hands out, and of the reference pages they open. */
export const SCOPE = REFERENCE_REQUEST;
export { EARLY_ACCESS };

const LINK_DAYS = 7;
const STYLESHEET = fileURLToPath(new URL("./style.css", import.meta.url));
const FAVICON = fileURLToPath(new URL("./favicon.svg", import.meta.url));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface DemoAppOptions {
  /** The pass service, migrated. */
  passes: VisitorPass;
  /** Signs the session cookie. @default a random secret: sessions end with the process */
  sessionSecret?: string;
  /**
   * Origin of the links put in emails, e.g. `https://refs.example.com`. @default the origin the
   * request came in on (fine for a demo; a real app should configure it).
   */
  publicOrigin?: string;
  /**
   * The demo's data (its outbox): give the one `createDemoPasses` sends fresh links into.
   * @default a new, empty one
   */
  state?: DemoState;
}

/**
 * The demo app: Fred asks Ginger for a reference, Ginger leaves it as a visitor; and anyone may
 * ask for early access to the dance floor on the self-service form.
 */
export function createDemoApp(options: DemoAppOptions): express.Express {
  const { passes } = options;
  const state = options.state ?? new DemoState();
  /** The origin of the request being served, for links in emails the library asks us to send. */
  const requestOrigin = new AsyncLocalStorage<string>();
  const app = express();
  app.disable("x-powered-by");
  app.use(securityHeaders);
  app.get("/style.css", (_req, res) => res.sendFile(STYLESHEET));
  // Linked from the demo's pages; browsers also ask for /favicon.ico on pages that link none.
  app.get(["/favicon.svg", "/favicon.ico"], (_req, res) =>
    res.type("image/svg+xml").sendFile(FAVICON),
  );

  app.use(
    session({
      name: "demo.sid",
      secret: options.sessionSecret ?? randomBytes(32).toString("hex"),
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: "lax", secure: "auto" },
    }),
  );
  app.use(express.urlencoded({ extended: false, limit: "50kb" }));
  app.use(rejectMalformedToken(passes.config.querystringKey));
  // After the session: recognises ?vuid=… links and restores visitors from the session.
  // Fred is signed in through the session, so say so: a visitor's cookie lifetime only
  // applies to people who are not.
  app.use(visitorPass(passes, { isAuthenticated: (req) => req.session.user != null }));

  const onlyVisitors = userIsVisitor({ scope: SCOPE });

  // ---- Everyone ----------------------------------------------------------------------------

  app.get("/", async (req, res) => {
    const who = whoIs(req);
    if (!who.user) return render(req, res, 200, "Home", anonymousHome(who));
    const rows = await requestsOf(who.user);
    render(req, res, 200, "Home", fredHome(who, rows, state.referencesFor(who.user.id)));
  });

  app.post("/sign-in", async (req, res) => {
    await regenerate(req);
    req.session.user = FRED;
    res.redirect(303, "/");
  });

  app.post("/sign-out", async (req, res) => {
    await destroy(req);
    res.clearCookie("demo.sid");
    res.redirect(303, "/");
  });

  app.get("/outbox", (req, res) => render(req, res, 200, "Outbox", outboxPage(state.outbox())));

  // ---- Fred ---------------------------------------------------------------------------------

  const signedIn: RequestHandler = (req, _res, next) => {
    next(req.session.user ? undefined : new DemoError(401));
  };

  app.get("/ask", signedIn, (req, res) => {
    render(req, res, 200, "Ask for a reference", askForm(emptyAsk, {}));
  });

  app.post("/ask", signedIn, async (req, res) => {
    const user = req.session.user!;
    const values: AskValues = {
      name: text(req, "name"),
      email: text(req, "email"),
      message: text(req, "message"),
    };
    const errors: FieldErrors = {};
    if (!values.name) errors.name = "Enter their name.";
    else if (values.name.length > 150) errors.name = "Use at most 150 characters.";
    if (!values.email) errors.email = "Enter their email address.";
    else if (!/^[^\s@]+@[^\s@]+$/.test(values.email)) errors.email = "Enter a valid email address.";
    if (!values.message) errors.message = "Write a short message.";
    else if (values.message.length > 2000) errors.message = "Use at most 2000 characters.";

    let visitor: Visitor | null = null;
    if (Object.keys(errors).length === 0) {
      const [firstName = "", ...rest] = values.name.split(/\s+/);
      try {
        visitor = await passes.create({
          email: values.email,
          firstName,
          lastName: rest.join(" "),
          scope: SCOPE,
          context: { requestedBy: user.id, message: values.message },
          expiresAt: new Date(Date.now() + LINK_DAYS * 24 * 60 * 60 * 1000),
        });
      } catch (error) {
        if (!(error instanceof VisitorPassValidationError)) throw error;
        // The library validates too: show its messages beside the fields they concern.
        const { email, firstName: first, lastName: last } = error.fieldErrors;
        if (email) errors.email = email.join(" ");
        if (first || last) errors.name = [...(first ?? []), ...(last ?? [])].join(" ");
        if (Object.keys(errors).length === 0) errors.message = error.message;
      }
    }
    if (!visitor) {
      return render(req, res, 422, "Ask for a reference", askForm(values, errors));
    }

    const link = passes.tokenise(`${originOf(req)}/reference`, visitor);
    state.send({
      to: `${visitor.fullName} <${visitor.email}>`,
      subject: `${user.name} asks you for a reference`,
      body: [
        `Hello ${visitor.firstName},`,
        "",
        `${user.name} would like a reference from you, and wrote:`,
        "",
        values.message,
        "",
        `You need no account. The link below works ${until(visitor)}:`,
      ].join("\n"),
      link,
      sentAt: new Date(),
    });
    req.session.notice = `Your request is on its way to ${visitor.fullName}: see the outbox.`;
    res.redirect(303, "/");
  });

  // ---- Ginger, the visitor -------------------------------------------------------------------

  app.get("/reference", onlyVisitors, (req, res) => {
    const request = referenceRequest(req.visitor!);
    render(req, res, 200, "Write your reference", referenceForm(request, "", {}));
  });

  app.post("/reference", onlyVisitors, (req, res) => {
    const request = referenceRequest(req.visitor!);
    const reference = text(req, "text");
    const errors = req.body?.action === "edit" ? {} : referenceErrors(reference);
    if (req.body?.action === "edit" || Object.keys(errors).length > 0) {
      const status = Object.keys(errors).length > 0 ? 422 : 200;
      return render(
        req,
        res,
        status,
        "Write your reference",
        referenceForm(request, reference, errors),
      );
    }
    render(req, res, 200, "Check your reference", referenceReview(request, reference));
  });

  app.post("/reference/submit", onlyVisitors, async (req, res) => {
    const visitor = req.visitor!;
    const request = referenceRequest(visitor);
    const reference = text(req, "text");
    const errors = referenceErrors(reference);
    if (Object.keys(errors).length > 0) {
      return render(
        req,
        res,
        422,
        "Write your reference",
        referenceForm(request, reference, errors),
      );
    }
    state.saveReference({
      passUuid: visitor.uuid,
      forUserId: String(visitor.context?.requestedBy),
      fromName: visitor.fullName || visitor.email,
      fromEmail: visitor.email,
      text: reference,
      receivedAt: new Date(),
    });
    // The final step: this session loses its access at once…
    clearVisitor(req);
    // …and, a reference being given once, the link stops working too.
    await passes.deactivate(visitor.uuid);
    // Redirected, so that Back or a reload from the thank-you page never resends the form.
    req.session.thanks = { firstName: visitor.firstName, requesterName: request.requesterName };
    res.redirect(303, "/reference/thanks");
  });

  app.get("/reference/thanks", (req, res) => {
    const thanks = req.session.thanks;
    if (!thanks) return res.redirect(303, "/");
    render(req, res, 200, "Thank you", referenceThanks(thanks.firstName, thanks.requesterName));
  });

  // Fred hears when Ginger opens the link he sent (a landing that spent a use of her pass).
  passes.on("visitorAdmitted", ({ visitor, spent }) => {
    const requester = userById(visitor.context?.requestedBy);
    if (!spent || visitor.scope !== SCOPE || !requester) return;
    const who = visitor.fullName || visitor.email;
    state.send({
      to: requester.name,
      subject: `${who} opened your link`,
      body: `${who} opened the link to your reference request.`,
      link: null,
      sentAt: new Date(),
    });
  });

  // ---- Self-service: early access ------------------------------------------------------------

  // Without a pass for this scope, the guard creates a pending one and sends the person to the
  // self-service form; Fred, being signed in, walks straight in.
  const earlyGuests = userIsVisitor({
    scope: EARLY_ACCESS,
    selfService: true,
    bypass: (req) => req.session.user != null,
  });

  // The form, at /visitors/self-service/<uuid>: the library's, served in the demo's own frame
  // (its header, a way back), and the page after it pointing at the outbox.
  app.use(
    passes.config.selfServicePath,
    (req, _res, next) => requestOrigin.run(originOf(req), next),
    selfService(passes, {
      pages: { form: selfServiceForm, sent: () => selfServiceSent(passes.config.tokenExpiry) },
    }),
  );

  // A valid form fills in and activates the pass: email its link, back to where they were going.
  passes.on("selfServiceVisitorCreated", (visitor) => {
    const origin = options.publicOrigin ?? requestOrigin.getStore();
    if (!origin) throw new Error("selfServiceVisitorCreated outside a self-service request");
    const link = passes.tokenise(pageUrl(visitor.context?.redirectTo, origin), visitor);
    state.send({
      to: `${visitor.fullName} <${visitor.email}>`,
      subject: "Your early access to the dance floor",
      body: [
        `Hello ${visitor.firstName},`,
        "",
        "You asked for early access to the dance floor, and here it is.",
        "",
        `You need no account. The link below works ${until(visitor)}:`,
      ].join("\n"),
      link,
      sentAt: new Date(),
    });
  });

  app.get("/early-access", earlyGuests, (req, res) => {
    render(req, res, 200, "Dance-floor early access", earlyAccessPage(whoIs(req)));
  });

  // ---- Errors ------------------------------------------------------------------------------

  app.use((_req, _res, next) => next(new DemoError(404)));
  app.use(errorHandler);

  return app;

  async function requestsOf(user: DemoUser): Promise<RequestRow[]> {
    const passesOfScope = await passes.list({ scope: SCOPE, limit: 100 });
    const mine = passesOfScope.filter((visitor) => visitor.context?.requestedBy === user.id);
    return Promise.all(
      mine.map(async (visitor) => ({
        visitor,
        status: statusOf(visitor, state.referenceFor(visitor.uuid) !== null),
        visits: (await passes.logs(visitor.uuid)).length,
      })),
    );
  }

  function originOf(req: Request): string {
    return options.publicOrigin ?? `${req.protocol}://${req.get("host")}`;
  }
}

/** When the pass's link stops working, as the emails say it. */
function until(visitor: Visitor): string {
  return visitor.expiresAt ? `until ${formatDate(visitor.expiresAt)}` : "until it is withdrawn";
}

const emptyAsk: AskValues = { name: "", email: "", message: "" };

function statusOf(visitor: Visitor, received: boolean): RequestStatus {
  if (received) return "received";
  if (!visitor.isActive) return "closed";
  if (visitor.hasExpired) return "expired";
  return "pending";
}

/** The absolute URL of `path` on this site; the early-access page for anything else. */
function pageUrl(path: unknown, origin: string): string {
  const url = new URL(typeof path === "string" ? path : "/early-access", origin);
  return url.origin === new URL(origin).origin ? url.href : new URL("/early-access", origin).href;
}

function referenceRequest(visitor: Visitor): ReferenceRequest {
  const message = visitor.context?.message;
  return {
    visitor,
    requesterName: userById(visitor.context?.requestedBy)?.name ?? "Someone",
    message: typeof message === "string" ? message : "",
  };
}

function referenceErrors(reference: string): FieldErrors {
  if (!reference) return { text: "Write your reference." };
  if (reference.length > 5000) return { text: "Use at most 5000 characters." };
  return {};
}

/** A trimmed text field of the posted form; "" when missing or repeated. */
function text(req: Request, name: string): string {
  const value: unknown = req.body?.[name];
  return typeof value === "string" ? value.trim() : "";
}

function whoIs(req: Request): Who {
  return { user: req.session?.user ?? null, visitor: req.visitor ?? null };
}

function render(req: Request, res: Response, status: number, title: string, body: Html): void {
  const notice = req.session?.notice ?? null;
  if (notice) delete req.session.notice;
  res
    .status(status)
    .set("Cache-Control", "no-store")
    .type("html")
    .send(layout({ title, who: whoIs(req), body, notice }).toString());
}

function regenerate(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.regenerate((error) => (error ? reject(error) : resolve())),
  );
}

function destroy(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.destroy((error) => (error ? reject(error) : resolve())),
  );
}

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    "Content-Security-Policy":
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    // Keep tokenised URLs out of the Referer header sent to other sites.
    "Referrer-Policy": "same-origin",
  });
  next();
};

/**
 * `visitorRequest` answers a malformed token itself, with a plain-text 400. The demo checks
 * first so that its error handler can show its own page instead.
 */
function rejectMalformedToken(key: string): RequestHandler {
  return (req, _res, next) => {
    const tokens = new URL(req.originalUrl, "http://demo.invalid").searchParams.getAll(key);
    next(tokens.every((token) => UUID.test(token)) ? undefined : new MalformedVisitorToken());
  };
}

/** An error status the demo raises itself. */
class DemoError extends Error {
  readonly status: number;

  constructor(status: number) {
    super(`HTTP ${status}`);
    this.status = status;
  }
}

const errorHandler: ErrorRequestHandler = (error, req, res, next) => {
  if (res.headersSent) return next(error);
  const status = statusFrom(error);
  // Only messages marked safe for clients are shown (the library's HTTP errors and http-errors'
  // 4xx set `expose`); never a stack.
  const message = error?.expose === true ? String(error.message) : null;
  let view: errorViews.ErrorView;
  if (error instanceof VisitorAccessDenied) view = errorViews.accessDenied(whoIs(req), error.scope);
  else if (status === 400)
    view = errorViews.badRequest(message ?? "The request was not understood.");
  else if (status === 401) view = errorViews.signInRequired();
  else if (status === 404) view = errorViews.notFound();
  else view = errorViews.otherError(status, message);
  if (status >= 500) console.error(error);
  render(req, res, status, view.title, html`<h1>${view.title}</h1>${view.body}`);
};

/** The status an error asks for (its `status` or `statusCode`), 500 when none or not an error. */
function statusFrom(error: unknown): number {
  const { status, statusCode } = (error ?? {}) as { status?: unknown; statusCode?: unknown };
  const code = status ?? statusCode;
  return typeof code === "number" && code >= 400 && code <= 599 ? code : 500;
}
