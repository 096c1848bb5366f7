import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { GenerationUpdate } from "../core/status";
import { readCompletions } from "./stream";

const encoder = new TextEncoder();

const completion = fc.record({
  generation_id: fc.uuid(),
  status: fc.constantFrom("succeeded", "failed"),
  detail: fc.string({ unit: "grapheme", maxLength: 30 }),
});
type Completion = { generation_id: string; status: string; detail: string };

const junk = fc.constantFrom(
  [": keep-alive"],
  [":"],
  ["event: deployment_status", 'data: {"generation_id":"x","status":"succeeded"}'],
  ["data: "],
  ["data: not json at all"],
  ["event: media_generation_completed", "data: {broken"],
  ["foo: bar"],
  ["id: 7", "retry: 10"],
  ['data: {"generation_id":"y","status":"succeeded"}'],
);

type Block = { kind: "real"; c: Completion } | { kind: "junk"; lines: string[] };
const block: fc.Arbitrary<Block> = fc.oneof(
  completion.map((c) => ({ kind: "real" as const, c })),
  junk.map((lines) => ({ kind: "junk" as const, lines: [...lines] })),
);

function lines(b: Block): string[] {
  if (b.kind === "junk") return b.lines;
  const { generation_id, status, detail } = b.c;
  const data =
    status === "succeeded"
      ? {
          generation_id,
          status,
          media_type: "image",
          model: "qwen-image-edit-2511",
          url: `https://x/${detail}`,
        }
      : { generation_id, status, media_type: "image", error: detail };
  return ["event: media_generation_completed", `data: ${JSON.stringify(data)}`];
}

const expected = (blocks: Block[]): GenerationUpdate[] =>
  blocks.flatMap((b) =>
    b.kind === "real"
      ? [
          {
            generation_id: b.c.generation_id,
            status: b.c.status as GenerationUpdate["status"],
            url: b.c.status === "succeeded" ? `https://x/${b.c.detail}` : null,
            error: b.c.status === "failed" ? b.c.detail : null,
          },
        ]
      : [],
  );

/** One ending per block, blank line included: a CR followed by an LF would merge into one break. */
const render = (blocks: Block[], endings: string[]): string =>
  blocks
    .map((b, i) => {
      const eol = endings[i % endings.length] ?? "\n";
      return `${lines(b).join(eol)}${eol}${eol}`;
    })
    .join("");

function chunked(bytes: Uint8Array, cuts: number[]): ReadableStream<Uint8Array> {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let last = 0;
  for (const p of [...points, bytes.length]) {
    if (p > last) parts.push(bytes.slice(last, p));
    last = Math.max(last, p);
  }
  return new ReadableStream({
    start(controller) {
      for (const p of parts) controller.enqueue(p);
      controller.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<GenerationUpdate[]> {
  const out: GenerationUpdate[] = [];
  await readCompletions(stream, (u) => out.push(u));
  return out;
}

describe("readCompletions", () => {
  it("yields the same completions for any chunking, line endings and junk", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(block, { maxLength: 12 }),
        fc.array(fc.constantFrom("\n", "\r\n", "\r"), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        async (blocks, endings, cuts) => {
          const bytes = encoder.encode(render(blocks, endings));
          expect(await collect(chunked(bytes, cuts))).toEqual(expected(blocks));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("survives a split at every byte boundary, inside multi-byte characters too", async () => {
    const blocks: Block[] = [
      { kind: "real", c: { generation_id: "g1", status: "succeeded", detail: "héllo-🎩" } },
      { kind: "junk", lines: [": keep-alive"] },
      { kind: "real", c: { generation_id: "g2", status: "failed", detail: "crédits épuisés" } },
    ];
    const bytes = encoder.encode(render(blocks, ["\r\n", "\r", "\n"]));
    const every = Array.from({ length: bytes.length }, (_, i) => i);
    expect(await collect(chunked(bytes, every))).toEqual(expected(blocks));
  });
});
