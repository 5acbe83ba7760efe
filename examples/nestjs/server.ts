/**
 * visitor-pass on NestJS, in a few routes: Fred invites Ginger, who writes him a reference
 * through her link without an account; anyone else can ask for early access themselves.
 *
 *   npm run example:nestjs                        then open http://localhost:3004/
 *   NEST_PLATFORM=fastify npm run example:nestjs  the same app on the Fastify platform
 *
 * Passes live in SQLite (visitor-pass.sqlite3 here) unless VISITOR_PASS_DATABASE_URL says otherwise.
 */
import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import fastifyCookie from "@fastify/cookie";
import fastifySession from "@fastify/session";
import {
  type ArgumentsHost,
  Body,
  Catch,
  Controller,
  type ExceptionFilter,
  Get,
  Header,
  HttpCode,
  type INestApplication,
  Inject,
  Module,
  Post,
  Req,
} from "@nestjs/common";
import { type AbstractHttpAdapter, NestFactory } from "@nestjs/core";
import { ExpressAdapter } from "@nestjs/platform-express";
import { FastifyAdapter, type NestFastifyApplication } from "@nestjs/platform-fastify";
import escapeHtml from "escape-html";
import express from "express";
import session from "express-session";
// In your app: from "visitor-pass" and "visitor-pass/nestjs".
import {
  CurrentVisitor,
  clearVisitor,
  UserIsVisitor,
  VISITOR_PASS,
  VisitorPassHttpException,
  VisitorPassModule,
} from "../../src/adapters/nestjs/index.js";
import {
  closeGracefully,
  createVisitorPass,
  handleSignals,
  type Visitor,
  type VisitorPass,
} from "../../src/index.js";

/** The scope of Ginger's pass: the reference pages. */
export const REFERENCE = "REFERENCE_REQUEST";
/** The scope of the passes people ask for themselves. */
export const EARLY_ACCESS = "EARLY_ACCESS";

const HTML = "text/html; charset=utf-8";

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

/** What the app keeps: Fred's references, and the mail it would have sent. */
class Board {
  readonly references: { from: string; text: string }[] = [];
  readonly outbox: { to: string; link: string }[] = [];
}

/** The platform's request, as far as these pages read it. */
interface PageRequest {
  protocol: string;
  headers: Record<string, string | string[] | undefined>;
}

@Controller()
class HomeController {
  constructor(
    @Inject(VISITOR_PASS) private readonly passes: VisitorPass,
    @Inject(Board) private readonly board: Board,
  ) {}

  @Get()
  @Header("Content-Type", HTML)
  home() {
    const references = this.board.references
      .map((r) => `<blockquote>${escapeHtml(r.text)}<br>— ${escapeHtml(r.from)}</blockquote>`)
      .join("");
    return page(
      "visitor-pass on NestJS",
      `<form method="post" action="/invite"><button>Invite Ginger to write Fred a reference</button></form>
<p><a href="/early-access">Early access</a> (ask for it yourself) · <a href="/outbox">Outbox</a></p>
<h2>References for Fred</h2>
${references || "<p>None yet.</p>"}`,
    );
  }

  @Post("invite")
  @HttpCode(200)
  @Header("Content-Type", HTML)
  async invite(@Req() request: PageRequest) {
    const ginger = await this.passes.create({
      email: "ginger@example.org",
      firstName: "Ginger",
      lastName: "Rogers",
      scope: REFERENCE,
      context: { for: "Fred" },
    });
    const link = this.passes.tokenise(
      `${request.protocol}://${request.headers.host}/reference`,
      ginger,
    );
    return page(
      "Invitation",
      `<p>A pass for ${escapeHtml(ginger.fullName)}. A real app emails her this link:</p>
<p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p>`,
    );
  }

  @Get("outbox")
  @Header("Content-Type", HTML)
  outbox() {
    const mails = this.board.outbox
      .map(
        (mail) =>
          `<p>To ${escapeHtml(mail.to)}: <a href="${escapeHtml(mail.link)}">your link</a></p>`,
      )
      .join("");
    return page("Outbox", mails || "<p>Empty.</p>");
  }
}

/** Ginger's two steps: the form, then the post that ends her visit. */
@Controller("reference")
@UserIsVisitor({ scope: REFERENCE })
class ReferenceController {
  constructor(@Inject(Board) private readonly board: Board) {}

  @Get()
  @Header("Content-Type", HTML)
  form(@CurrentVisitor() ginger: Visitor) {
    return page(
      "Write a reference",
      `<p>Hello ${escapeHtml(ginger.firstName)}, Fred asks you for a reference.</p>
<form method="post" action="/reference"><textarea name="text" required></textarea>
<button>Send</button></form>`,
    );
  }

  @Post()
  @HttpCode(200)
  @Header("Content-Type", HTML)
  send(
    @Req() request: object,
    @CurrentVisitor() ginger: Visitor,
    @Body() body: { text?: string } | undefined,
  ) {
    const text = String(body?.text ?? "").trim();
    if (!text) return this.form(ginger);
    this.board.references.push({ from: ginger.fullName, text });
    clearVisitor(request); // The final step: her link does not let this session in any more.
    return page("Thank you", "<p>Thank you. Your reference is on its way to Fred.</p>");
  }
}

/** Anyone without a pass is sent to the self-service form, and back here by the emailed link. */
@Controller("early-access")
class EarlyAccessController {
  @Get()
  @Header("Content-Type", HTML)
  @UserIsVisitor({ scope: EARLY_ACCESS, selfService: true })
  welcome(@CurrentVisitor() visitor: Visitor) {
    return page("Early access", `<p>Welcome, ${escapeHtml(visitor.fullName)}.</p>`);
  }
}

/** A guard's refusal as a page of the app's own (Nest's default filter would answer JSON). */
@Catch(VisitorPassHttpException)
class VisitorsOnlyFilter implements ExceptionFilter {
  constructor(private readonly http: AbstractHttpAdapter) {}

  catch(exception: VisitorPassHttpException, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse();
    const denied = exception.getStatus() === 403;
    this.http.setHeader(response, "Content-Type", HTML);
    this.http.reply(
      response,
      denied
        ? page("Visitors only", "<p>This page needs a visitor link.</p>")
        : page("Sorry", `<p>${escapeHtml(exception.cause.message)}</p>`),
      exception.getStatus(),
    );
  }
}

export interface ExampleOptions {
  /** The pass service, migrated. */
  passes: VisitorPass;
  /** Signs the session cookie (32+ characters). @default random: sessions end with the process */
  sessionSecret?: string;
  /** The HTTP platform. @default "express" */
  platform?: "express" | "fastify";
}

/** The app, initialised (routes, session, visitor-pass), not yet listening. */
export async function createApp({
  passes,
  sessionSecret,
  platform = "express",
}: ExampleOptions): Promise<INestApplication> {
  const board = new Board();
  // A self-service pass is ready: a real app emails the link; this one keeps it on /outbox.
  passes.on("selfServiceVisitorCreated", (visitor) => {
    const link = passes.tokenise(String(visitor.context?.redirectTo ?? "/early-access"), visitor);
    board.outbox.push({ to: visitor.email, link });
  });

  @Module({
    // The self-service form, where guards with `selfService: true` send people without a pass.
    imports: [VisitorPassModule.forRoot({ passes, selfService: true })],
    controllers: [HomeController, ReferenceController, EarlyAccessController],
    providers: [{ provide: Board, useValue: board }],
  })
  class AppModule {}

  const secret = sessionSecret ?? randomBytes(32).toString("hex");
  let app: INestApplication;
  // The session comes first: VisitorPassModule mounts visitor-pass after it when the app starts.
  if (platform === "fastify") {
    const nest = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), {
      logger: false,
    });
    await nest.register(fastifyCookie);
    await nest.register(fastifySession, {
      secret,
      saveUninitialized: false,
      cookie: { secure: "auto", httpOnly: true, sameSite: "lax" },
    });
    app = nest;
  } else {
    app = await NestFactory.create(AppModule, new ExpressAdapter(express()), { logger: false });
    app.use(
      session({
        secret,
        resave: false,
        saveUninitialized: false,
        cookie: { httpOnly: true, sameSite: "lax" },
      }),
    );
  }
  app.useGlobalFilters(new VisitorsOnlyFilter(app.getHttpAdapter() as AbstractHttpAdapter));
  await app.init();
  return app;
}

async function main(): Promise<void> {
  // No database option: VISITOR_PASS_DATABASE_URL if set, else sqlite:visitor-pass.sqlite3 here.
  const passes = createVisitorPass();
  await passes.migrate();
  const platform = process.env.NEST_PLATFORM === "fastify" ? "fastify" : "express";
  const app = await createApp({ passes, sessionSecret: process.env.SESSION_SECRET, platform });
  const port = Number(process.env.PORT ?? 3004);
  await app.listen(port, process.env.HOST ?? "localhost");
  console.log(`visitor-pass on NestJS (${platform}): ${await app.getUrl()}/`);
  // On SIGTERM or SIGINT: stop taking connections, let the requests in flight finish (keep-alive
  // clients are told to go away), run Nest's shutdown, write the queued visit logs, exit.
  handleSignals(async () => {
    await closeGracefully(app.getHttpServer());
    await app.close();
    await passes.close();
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
