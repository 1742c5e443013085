// Checks Binôme's published contracts the way a third party would, with the official tools.
// Vérifie les contrats publiés de Binôme comme le ferait un tiers, avec les outils officiels.
//
//   node check.mjs --docs <docs dir> [--records <records.json>]
//
// - every docs/asyncapi/*.json goes through the official AsyncAPI parser (@asyncapi/parser);
// - every docs/schemas/messages/*.json compiles in Ajv (draft 2020-12) in strict mode, with
//   ajv-formats, exactly as a consumer would set it up: no custom keyword, no option relaxed;
// - every `examples` value inside a schema is validated against its own subschema;
// - each record of --records ({"dataschema": <ce_dataschema>, "data": <body>}) is validated
//   against the schema whose $id is its ce_dataschema.
// Prints a JSON report on stdout; exits 1 when anything failed.

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { Parser, DiagnosticSeverity } from "@asyncapi/parser";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));
const jsonFiles = (dir) =>
  readdirSync(dir)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((name) => join(dir, name));

async function checkAsyncApi(dir) {
  const parser = new Parser();
  const report = {};
  for (const path of jsonFiles(dir)) {
    const { diagnostics } = await parser.parse(readFileSync(path, "utf8"), { source: path });
    const describe = (d) => `${d.code} ${d.path.join("/")}: ${d.message}`;
    const of = (severity) => diagnostics.filter((d) => d.severity === severity).map(describe);
    report[path] = {
      errors: of(DiagnosticSeverity.Error),
      warnings: of(DiagnosticSeverity.Warning),
    };
  }
  return report;
}

// Each (JSON pointer, examples) pair found anywhere in a schema.
function* examplesOf(schema, pointer = "") {
  if (Array.isArray(schema)) {
    for (const [index, item] of schema.entries()) yield* examplesOf(item, `${pointer}/${index}`);
    return;
  }
  if (schema === null || typeof schema !== "object") return;
  for (const [key, value] of Object.entries(schema)) {
    const escaped = key.replaceAll("~", "~0").replaceAll("/", "~1");
    if (key === "examples" && Array.isArray(value)) {
      yield [pointer, value];
    } else if (!["const", "default", "enum", "examples"].includes(key)) {
      yield* examplesOf(value, `${pointer}/${escaped}`);
    }
  }
}

function checkSchemas(dir, records) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  const report = { compiled: 0, compileErrors: [], examples: 0, exampleFailures: [] };
  const compiled = new Map(); // $id → [schema, validate function]
  for (const path of jsonFiles(dir)) {
    const schema = readJson(path);
    try {
      if (schema.$schema !== "https://json-schema.org/draft/2020-12/schema") {
        throw new Error(`$schema is ${JSON.stringify(schema.$schema)}, not draft 2020-12`);
      }
      compiled.set(schema.$id, [schema, ajv.compile(schema)]); // strict mode included
      report.compiled += 1;
    } catch (error) {
      report.compileErrors.push(`${path}: ${error.message}`);
    }
  }
  for (const [id, [schema]] of compiled) {
    for (const [pointer, examples] of examplesOf(schema)) {
      const validate = ajv.compile({ $ref: `${id}#${encodeURI(pointer)}` });
      for (const example of examples) {
        report.examples += 1;
        if (!validate(example)) {
          report.exampleFailures.push(
            `${id}#${pointer} ${JSON.stringify(example)}: ${ajv.errorsText(validate.errors)}`,
          );
        }
      }
    }
  }
  report.records = 0;
  report.recordFailures = [];
  for (const { dataschema, data } of records) {
    report.records += 1;
    const validate = compiled.get(dataschema)?.[1];
    if (validate === undefined) {
      report.recordFailures.push(`${dataschema}: no compiled schema has this $id`);
    } else if (!validate(data)) {
      report.recordFailures.push(`${dataschema}: ${ajv.errorsText(validate.errors)}`);
    }
  }
  return report;
}

const { values } = parseArgs({
  options: { docs: { type: "string" }, records: { type: "string" } },
});
if (!values.docs) {
  console.error("usage: node check.mjs --docs <docs dir> [--records <records.json>]");
  process.exit(2);
}
const records = values.records ? readJson(values.records) : [];
const report = {
  asyncapi: await checkAsyncApi(join(values.docs, "asyncapi")),
  schemas: checkSchemas(join(values.docs, "schemas", "messages"), records),
};
console.log(JSON.stringify(report, null, 2));
const failed =
  Object.values(report.asyncapi).some((r) => r.errors.length || r.warnings.length) ||
  report.schemas.compileErrors.length ||
  report.schemas.exampleFailures.length ||
  report.schemas.recordFailures.length;
process.exit(failed ? 1 : 0);
