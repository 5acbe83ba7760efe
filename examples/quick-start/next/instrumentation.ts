// The tables, once, when the server starts.
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { passes } = await import("./visitor-pass");
    await passes.migrate();
  }
}
