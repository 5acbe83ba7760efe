import { type ChildProcess, spawn } from "node:child_process";

/** Another process holding SQLite's write lock on a database file, until `release()`. */
export interface HeldLock {
  release(): Promise<void>;
}

/** How long the holder keeps the lock at most, should the test never release it (ms). */
const MAX_HOLD_MS = 20_000;

const HOLDER = `
const Database = require("better-sqlite3");
const db = new Database(process.argv[1]);
db.exec("BEGIN IMMEDIATE");
process.stdout.write("locked\\n");
const release = () => { db.exec("COMMIT"); db.close(); process.exit(0); };
process.stdin.once("data", release);
process.stdin.once("end", release);
setTimeout(release, ${MAX_HOLD_MS});
`;

/**
 * Spawns a `node` process that opens `file` with better-sqlite3 and holds `BEGIN IMMEDIATE` (as
 * a `sqlite3` shell left in a transaction, a backup or another process's purge would); resolves
 * once it holds the lock.
 */
export async function holdWriteLock(file: string): Promise<HeldLock> {
  const child: ChildProcess = spawn(process.execPath, ["-e", HOLDER, file], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the lock holder did not start")), 10_000);
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the lock holder exited (${code})`)));
    child.stdout!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("locked")) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    async release() {
      if (child.exitCode === null) child.stdin!.end("release\n");
      await exited;
    },
  };
}
