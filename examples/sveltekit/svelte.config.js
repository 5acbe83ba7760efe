import adapter from "@sveltejs/adapter-node";

/** @type {import("@sveltejs/kit").Config} */
export default {
  kit: {
    // The built server (`build/`) keeps the packages in package.json's `dependencies` outside
    // its bundle: here those of visitor-pass, whose source this example is built from.
    adapter: adapter(),
    // In your app, `visitor-pass` comes from npm and this goes.
    alias: {
      "visitor-pass/fetch": "../../src/adapters/fetch/index.ts",
      "visitor-pass": "../../src/index.ts",
    },
  },
};
