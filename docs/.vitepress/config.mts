import { readFileSync } from "node:fs";
import { defineConfig } from "vitepress";

// Written by `npm run docs:api` (TypeDoc), which `docs:build` and `docs:dev` run first.
const apiSidebar = JSON.parse(
  readFileSync(new URL("../api/typedoc-sidebar.json", import.meta.url), "utf8"),
);

export default defineConfig({
  title: "visitor-pass",
  description:
    "Visitor passes for Node.js web apps: let someone you know of, but who is not registered, into a few guarded pages for one session.",
  // Set on a host that serves the site under a path (GitHub Pages: "/visitor-pass/").
  base: process.env.DOCS_BASE ?? "/",
  cleanUrls: true,
  lastUpdated: false,
  // A broken link fails the build.
  ignoreDeadLinks: false,
  themeConfig: {
    nav: [
      { text: "Getting started", link: "/getting-started/express" },
      { text: "Concepts", link: "/concepts" },
      { text: "Recipes", link: "/recipes/" },
      { text: "Security", link: "/security" },
      { text: "Operations", link: "/operations" },
      { text: "API", link: "/api/" },
    ],
    sidebar: [
      {
        text: "Getting started",
        items: [
          { text: "Express", link: "/getting-started/express" },
          { text: "Fastify", link: "/getting-started/fastify" },
          { text: "Hono", link: "/getting-started/hono" },
          { text: "SvelteKit", link: "/getting-started/sveltekit" },
          { text: "Any framework (Fetch)", link: "/getting-started/fetch" },
          { text: "NestJS", link: "/getting-started/nestjs" },
          { text: "Next.js", link: "/getting-started/next" },
        ],
      },
      { text: "Concepts", link: "/concepts" },
      { text: "Configuration", link: "/configuration" },
      { text: "Core API and errors", link: "/core-api" },
      {
        text: "Recipes",
        link: "/recipes/",
        items: [
          { text: "A one-time link", link: "/recipes/one-time-link" },
          { text: "A pass for one resource", link: "/recipes/one-resource" },
          { text: "Fresh links", link: "/recipes/fresh-links" },
          { text: "Sending the link by email", link: "/recipes/email-link" },
          { text: "Mail and the development outbox", link: "/recipes/mail" },
          { text: "Sessions in Redis or PostgreSQL", link: "/recipes/session-store" },
          { text: "Promoting a visitor to an account", link: "/recipes/promotion" },
          { text: "Typing SessionData (Express)", link: "/recipes/typed-session" },
          { text: "Behind a proxy", link: "/recipes/behind-a-proxy" },
          { text: "The self-service form, extended", link: "/recipes/self-service-form" },
          { text: "Webhooks", link: "/recipes/webhooks" },
          { text: "Coming from django-visitor-pass", link: "/recipes/from-django" },
        ],
      },
      { text: "Security model", link: "/security" },
      { text: "Operations", link: "/operations" },
      { text: "How it is tested", link: "/testing" },
      { text: "API reference", link: "/api/", collapsed: false, items: apiSidebar },
    ],
    search: { provider: "local" },
    outline: [2, 3],
    socialLinks: [{ icon: "github", link: "https://github.com/visitor-pass/visitor-pass" }],
  },
});
