import { readFileSync, writeFileSync } from "node:fs";
import { type Results, type Row, report } from "./report.ts";

/**
 * Writes docs/benchmarks.md again from a run's saved results, without running anything: for
 * revising the page's text after a long run. `node test/bench/render.ts [results] [page]`
 * (defaults: test-output/bench.json, docs/benchmarks.md).
 */
const [from = "test-output/bench.json", to = "docs/benchmarks.md"] = process.argv.slice(2);
const saved = JSON.parse(readFileSync(from, "utf8")) as {
  run: { seconds: number; machine: string; date: string };
  rows: Row[];
  results: Results;
};
writeFileSync(to, report(saved.rows, saved.results, saved.run).doc);
console.log(`${to} written from ${from} (the run of ${saved.run.date})`);
