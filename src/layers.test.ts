import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

/** The layering rule of eslint.config.js: `npm run lint` fails on an upward import. */
describe("layers", () => {
  const eslint = new ESLint();
  const lint = async (file: string, code: string) => {
    const [result] = await eslint.lintText(code, { filePath: file });
    return result!.messages.filter((m) => m.ruleId === "no-restricted-imports");
  };

  it("refuses an import from a higher folder", async () => {
    const found = await lint(
      "src/history/upward.ts",
      'export { runChaos } from "../run/run.js";\n',
    );
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toContain("src/history/ may import only from");
  });

  it("refuses one from a nested folder too", async () => {
    const code = 'export { renderTable } from "../../report/table.js";\n';
    expect(await lint("src/faults/network/upward.ts", code)).toHaveLength(1);
  });

  it("lets imports point down", async () => {
    const code = 'export { Reconciler } from "../reconcile/reconcile.js";\n';
    expect(await lint("src/run/downward.ts", code)).toHaveLength(0);
  });
});
