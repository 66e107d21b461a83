import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

/**
 * The folders of src/ and the folders each may import from: imports point down the layers
 * (cli → run → app/processor/producer → reader/sinks/identity → profiles → faults/reconcile →
 * history/clients/stack). The files at src/'s root (errors, random) are open to all.
 */
const LAYERS = {
  history: [],
  clients: [],
  stack: [],
  reconcile: ["history"],
  faults: ["history"],
  profiles: ["faults", "history", "reconcile"],
  identity: ["profiles"],
  sinks: ["history", "profiles", "stack"],
  reader: ["clients", "history", "identity"],
  producer: ["clients", "history", "identity", "profiles", "reader"],
  processor: ["clients", "history", "identity", "producer", "profiles", "sinks"],
  app: ["clients", "faults", "history", "identity", "profiles", "sinks"],
  report: ["history", "reconcile"],
  run: [
    "app",
    "clients",
    "faults",
    "history",
    "identity",
    "processor",
    "producer",
    "profiles",
    "reader",
    "reconcile",
    "report",
    "sinks",
    "stack",
  ],
  explore: ["clients", "faults", "history", "profiles", "reconcile", "report", "run", "stack"],
};
const FOLDERS = [...Object.keys(LAYERS), "cli"];

const layering = Object.entries(LAYERS).map(([folder, allowed]) => {
  const upward = FOLDERS.filter((f) => f !== folder && !allowed.includes(f));
  return {
    files: [`src/${folder}/**/*.ts`],
    // A test may build its inputs with a higher layer's helpers.
    ignores: ["src/**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: `^(\\.\\./)+(${upward.join("|")})/`,
              message: `src/${folder}/ may import only from ${allowed.join(", ") || "src/'s root files"} (layers point down; see eslint.config.js)`,
            },
          ],
        },
      ],
    },
  };
});

export default tseslint.config(
  {
    ignores: [
      "dist/",
      "node_modules/",
      ".cache/",
      "kafka-chaos-runs/",
      "coverage/",
      "examples/**/.venv/",
      "examples/**/target/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: { "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }] },
  },
  ...layering,
);
