#!/usr/bin/env node
// Writes schema/report.schema.json, the JSON Schema of report.json, from the Report type in
// src/report/report.ts. `npm run schema` after a change to the report's shape; a unit test
// fails while the file and the type differ.
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { reportSchema } from "./report-schema-lib.mjs";

const out = fileURLToPath(new URL("../schema/report.schema.json", import.meta.url));
fs.mkdirSync(new URL("../schema/", import.meta.url), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(reportSchema(), null, 2)}\n`);
console.log(`wrote ${out}`);
