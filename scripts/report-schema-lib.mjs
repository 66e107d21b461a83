// The JSON Schema of report.json, generated from the Report type (shared by the script and the
// test that keeps schema/report.schema.json in step with the type).
import { fileURLToPath } from "node:url";
import { createGenerator } from "ts-json-schema-generator";

export function reportSchema() {
  const root = (p) => fileURLToPath(new URL(`../${p}`, import.meta.url));
  const schema = createGenerator({
    path: root("src/report/report.ts"),
    tsconfig: root("tsconfig.json"),
    type: "Report",
    skipTypeCheck: true,
  }).createSchema("Report");
  return {
    $id: "kafka-chaos/schema/report.schema.json",
    title: "kafka-chaos report.json",
    ...schema,
  };
}
