import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expect, it } from "vitest";

// docs/storage.md lists every KV key and SQLite table; this keeps it from drifting from the code.
// Worker modules, loaded by path so this Node program's type check does not follow them (they
// are typed against workerd's globals, and what is read here is plain data).
const load = (path: string): Promise<Record<string, unknown>> => import(path);
const src = "../../src";
const { CLIENT_MIGRATIONS } = await load(`${src}/clients/migrations.ts`);
const { CLIENT_KV_PREFIXES } = await load(`${src}/clients/store.ts`);
const { EDIT_KV_PREFIXES } = await load(`${src}/edits/kv.ts`);
const { EDIT_MIGRATIONS } = await load(`${src}/edits/migrations.ts`);
const { META_KEYS } = await load(`${src}/edits/store.ts`);
const { HUB_MIGRATIONS } = await load(`${src}/hub/migrations.ts`);
const { tablesOf } = (await load(`${src}/lib/schema.ts`)) as { tablesOf: (m: unknown) => string[] };
const list = (v: unknown) => v as string[];
const doc = readFileSync(resolve(import.meta.dirname, "../../docs/storage.md"), "utf8");
const section = (title: string) => {
  const start = doc.indexOf(`## ${title}`);
  expect(start, `docs/storage.md has a "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const end = doc.indexOf("\n## ", start + 3);
  return doc.slice(start, end === -1 ? undefined : end);
};
/** The first cell of each table row in a section, without backticks: the names it documents. */
const documented = (text: string) =>
  [...text.matchAll(/^\| `([^`]+)`/gm)].map((m) => (m[1] as string).replace(/\{.*$/, ""));

it.each([
  ["Edit Durable Object", EDIT_MIGRATIONS],
  ["Hub Durable Object", HUB_MIGRATIONS],
  ["Client Durable Object", CLIENT_MIGRATIONS],
])("documents exactly the tables of the %s", (title, migrations) => {
  const tables = [...tablesOf(migrations), "_schema"].sort();
  expect(documented(section(title)).sort()).toEqual(tables);
});

it("documents exactly the KV keys the code writes", () => {
  expect(documented(section("Workers KV")).sort()).toEqual(
    [...list(CLIENT_KV_PREFIXES), ...list(EDIT_KV_PREFIXES)].sort(),
  );
});

it("documents every meta key of an edit", () => {
  const text = section("Edit Durable Object");
  for (const key of list(META_KEYS)) expect(text).toContain(`\`${key}\``);
});
