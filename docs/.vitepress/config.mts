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
          { text: "Next.js", link: "/getting-started/next" },
        ],
      },
      { text: "Concepts", link: "/concepts" },
      { text: "Security model", link: "/security" },
      { text: "Operations", link: "/operations" },
      { text: "API reference", link: "/api/", collapsed: false, items: apiSidebar },
    ],
    search: { provider: "local" },
    outline: [2, 3],
    socialLinks: [{ icon: "github", link: "https://github.com/visitor-pass/visitor-pass" }],
  },
});
