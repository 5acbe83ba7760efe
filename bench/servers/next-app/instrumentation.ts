/** The tables, created when the visitor variant's server starts. */
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs" && process.env.BENCH_MODE === "visitor") {
    const { passes } = await import("./visitor-pass");
    await passes.migrate();
  }
}
