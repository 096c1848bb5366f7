import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { expect, it } from "vitest";

// The layering rule of src/: no folder imports one that imports it back (type imports count too).
const SRC = resolve(import.meta.dirname, "../../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

const folderOf = (file: string) => relative(SRC, dirname(file)).split("/")[0] || "(root)";

/** Folder → folders it imports from, read from every relative import and export in src/. */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(SRC)) {
    const from = folderOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const m of readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*["'](\.[^"']+)["']/g)) {
      const target = resolve(dirname(file), m[1] as string);
      if (!target.startsWith(SRC)) continue;
      const to = folderOf(`${target}.ts`);
      if (to !== from) edges.add(to);
    }
  }
  return graph;
}

/** Strongly connected components with more than one folder: each is an import cycle. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

it("has no import cycle between folders of src/", () => {
  const graph = folderGraph();
  const found = cycles(graph).map((scc) =>
    scc.map((f) => `${f} → ${[...(graph.get(f) ?? [])].filter((t) => scc.includes(t)).join(", ")}`),
  );
  expect(found).toEqual([]);
});

it("finds a cycle when there is one (the check itself can fail)", () => {
  const g = new Map([
    ["a", new Set(["b"])],
    ["b", new Set(["c"])],
    ["c", new Set(["a"])],
    ["d", new Set(["a"])],
  ]);
  expect(cycles(g)).toEqual([["a", "b", "c"]]);
});

it("keeps Node programs out of src/: nothing there imports node: modules or tools/", () => {
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, "utf8");
    expect(text, file).not.toMatch(/from\s+["'](node:|\.\.\/.*tools\/)/);
  }
});
