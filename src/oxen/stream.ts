import { createParser } from "eventsource-parser";
import type { GenerationUpdate } from "../core/status";
import { parseCompletion } from "./events";

/**
 * Reads an Oxen event stream to its end, calling `onUpdate` for each completion and `onBytes`
 * for anything at all (keep-alives included: they prove the connection alive). Bytes are
 * decoded as a stream, so a character split across chunks survives; framing is eventsource-parser's.
 */
export async function readCompletions(
  body: ReadableStream<Uint8Array>,
  onUpdate: (update: GenerationUpdate) => void,
  onBytes: () => void = () => {},
): Promise<void> {
  const parser = createParser({
    onEvent: (msg) => {
      const update = parseCompletion(msg.event, msg.data);
      if (update) onUpdate(update);
    },
  });
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    onBytes();
    parser.feed(value);
  }
}
