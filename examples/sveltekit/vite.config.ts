import { sveltekit } from "@sveltejs/kit/vite";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [sveltekit()],
  // Built from visitor-pass's source (see svelte.config.js), whose Kysely 0.29 entry is looked up
  // only at run time, on Kysely 0.29; an app with visitor-pass from npm needs none of this.
  build: { rollupOptions: { external: ["kysely/migration"] } },
  server: { port: Number(process.env.PORT ?? 3004) },
});
