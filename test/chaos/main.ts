import { DEFAULT_CHAOS, formatTable, runChaos } from "./run.ts";

// `npm run chaos [-- --edits N --seed S]`: the full run; prints the table, exits 1 if anything was lost.
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : undefined;
};
const report = await runChaos({
  edits: flag("edits") ?? DEFAULT_CHAOS.edits,
  seed: flag("seed") ?? DEFAULT_CHAOS.seed,
  log: (line) => console.log(line),
});
console.log(`\n| figure | value |\n|---|---|\n${formatTable(report.figures)}`);
console.log(report.ok ? "\nchaos: nothing lost" : "\nchaos: FAILED");
process.exit(report.ok ? 0 : 1);
