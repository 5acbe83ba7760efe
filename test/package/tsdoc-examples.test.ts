// The API reference shows an `@example` for every public factory and option: each function the
// package's entry points export, each option of `createVisitorPass()` (and of its `throttle`),
// and each exported `…Options` type. Read from the TSDoc with the TypeScript compiler.
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ENTRIES = [
  "src/index.ts",
  "src/adapters/express/index.ts",
  "src/adapters/fastify/index.ts",
  "src/adapters/hono/index.ts",
  "src/adapters/fetch/index.ts",
  "src/features/mail/index.ts",
];
/** Whose every member needs an example of its own, beside the interface's. */
const OPTIONS_BY_MEMBER = ["VisitorPassOptions", "ThrottleOptions"];

function lacking(): string[] {
  const program = ts.createProgram(ENTRIES, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const hasExample = (symbol: ts.Symbol) =>
    (symbol.declarations ?? []).some((declaration) =>
      ts.getJSDocTags(declaration).some((tag) => tag.tagName.text === "example"),
    );
  const missing = new Set<string>();
  for (const entry of ENTRIES) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
    for (const exported of checker.getExportsOfModule(module)) {
      const symbol =
        exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const isFactory = (symbol.flags & ts.SymbolFlags.Function) !== 0;
      const isOptions =
        /Options$/.test(exported.name) && (symbol.flags & ts.SymbolFlags.Type) !== 0;
      if ((isFactory || isOptions) && !hasExample(symbol)) {
        missing.add(`${exported.name} (${entry})`);
      }
      if (OPTIONS_BY_MEMBER.includes(exported.name)) {
        for (const member of checker.getDeclaredTypeOfSymbol(symbol).getProperties()) {
          if (!hasExample(member)) missing.add(`${exported.name}.${member.name}`);
        }
      }
    }
  }
  return [...missing].sort();
}

describe("TSDoc examples", () => {
  it("every exported factory, every option of createVisitorPass, every …Options type has an @example", {
    timeout: 120_000,
  }, () => {
    expect(lacking()).toEqual([]);
  });
});
