import type { RelayConfig } from "../core/config";
import { type GenerationUpdate, isTerminal, type Output } from "../core/status";
import { log } from "../lib/log";
import { copyToBucket, fileUrl, outputKey } from "../media/store";
import type { EditStore } from "./store";

/** How long a failing copy is retried before the event goes out with Oxen's link (`persisted: false`). */
export const COPY_WINDOW_MS = 60_000;
/** Oxen's file is read with this timeout, per attempt. */
const COPY_TIMEOUT_MS = 20_000;

export const copyBackoffMs = (attempts: number): number => Math.min(16_000, 1_000 * 2 ** attempts);

/** Where an edit's copies go and how their URLs are signed; null when the edit is gone. */
export function copyOptions(env: Env, config: RelayConfig, store: EditStore): CopyOptions | null {
  const snap = store.load();
  if (!snap) return null;
  return {
    bucket: env.MEDIA,
    editId: snap.edit.id,
    origin: store.origin(),
    secret: config.fileUrlSecret,
    // File URLs live as long as the files (retention) and a day.
    urlExpiresAt: Date.now() + (config.retentionSeconds + 86_400) * 1000,
  };
}

export interface CopyOptions {
  bucket: R2Bucket;
  editId: string;
  origin: string | null;
  secret: string;
  urlExpiresAt: number;
}

interface CopyRow {
  generation_id: string;
  oxen_url: string;
  first_at: number;
  next_at: number;
  attempts: number;
}

/**
 * Succeeded outputs waiting to be copied into R2 (table `copies`). The edit holds back the
 * output, and so the terminal event, until its copy is done or its window has passed: the
 * event then carries the relay's URL, which outlives Oxen's hour-long link.
 */
export class OutputCopies {
  readonly #sql: SqlStorage;
  #chain: Promise<void> = Promise.resolve();

  /**
   * Runs the due copies after any run already under way (so awaiting it waits for them too) and
   * hands the settled outputs on. `opts` is read when the run starts (null: nothing to copy for).
   */
  settleDue(
    opts: () => CopyOptions | null,
    then: (settled: GenerationUpdate[]) => Promise<void>,
  ): Promise<void> {
    this.#chain = this.#chain
      .then(async () => {
        const o = opts();
        if (o) await then(await this.run(Date.now(), o));
      })
      .catch((e) => log("warn", "output copy failed", { error: (e as Error).message }));
    return this.#chain;
  }

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  has(generationId: string): boolean {
    return this.#sql.exec("SELECT 1 FROM copies WHERE generation_id = ?", generationId).toArray().length > 0;
  }

  add(generationId: string, oxenUrl: string, now: number): void {
    this.#sql.exec(
      "INSERT OR IGNORE INTO copies (generation_id, oxen_url, first_at, next_at) VALUES (?, ?, ?, ?)",
      generationId,
      oxenUrl,
      now,
      now,
    );
  }

  nextDue(): number | null {
    return this.#sql.exec<{ t: number | null }>("SELECT MIN(next_at) AS t FROM copies").one().t;
  }

  /**
   * Runs the copies that are due and returns the updates they settle: succeeded with the relay's
   * URL, or, past the window, with Oxen's URL and `persisted: false`. A failed copy is retried
   * with backoff. Runs are serialised by `settleDue`, so a copy is never started twice.
   */
  async run(now: number, opts: CopyOptions): Promise<GenerationUpdate[]> {
    const due = this.#sql
      .exec<CopyRow & Record<string, SqlStorageValue>>("SELECT * FROM copies WHERE next_at <= ?", now)
      .toArray();
    const settled = await Promise.all(
      due.map(async (row): Promise<GenerationUpdate | null> => {
        const done = (update: GenerationUpdate) => {
          this.#sql.exec("DELETE FROM copies WHERE generation_id = ?", row.generation_id);
          return update;
        };
        const copied = opts.origin
          ? await copyToBucket(
              opts.bucket,
              row.oxen_url,
              (ext) => outputKey(opts.editId, row.generation_id, ext),
              COPY_TIMEOUT_MS,
            )
          : ({ ok: false, error: "the edit has no origin to serve files from" } as const);
        if (copied.ok && opts.origin) {
          const { key: k, ok: _ok, ...media } = copied;
          return done({
            generation_id: row.generation_id,
            status: "succeeded",
            url: await fileUrl(opts.origin, k, opts.secret, opts.urlExpiresAt),
            media: { oxen_url: row.oxen_url, ...media },
          });
        }
        if (Date.now() - row.first_at >= COPY_WINDOW_MS || !opts.origin) {
          return done({
            generation_id: row.generation_id,
            status: "succeeded",
            url: row.oxen_url,
            media: { oxen_url: row.oxen_url, persisted: false },
          });
        }
        this.#sql.exec(
          "UPDATE copies SET attempts = attempts + 1, next_at = ? WHERE generation_id = ?",
          Date.now() + copyBackoffMs(row.attempts),
          row.generation_id,
        );
        return null;
      }),
    );
    return settled.filter((u): u is GenerationUpdate => u !== null);
  }
}

/**
 * Splits updates into those that apply now and succeeded ones of unfinished outputs whose file
 * must be copied first. A job whose cancel Oxen accepted and which Oxen then no longer knows
 * (`unknown`) was cancelled: it reads so (`cancelled` is asked only when that case arises).
 */
export function sortUpdates(
  outputs: Output[],
  incoming: GenerationUpdate[],
  cancelled: () => Set<string>,
  persist = true,
): { now: GenerationUpdate[]; later: GenerationUpdate[] } {
  const cancels = incoming.some((u) => u.unknown) ? cancelled() : new Set<string>();
  const updates = incoming.map(
    (u): GenerationUpdate =>
      u.unknown && cancels.has(u.generation_id) ? { generation_id: u.generation_id, status: "cancelled" } : u,
  );
  const open = new Set(outputs.filter((o) => !isTerminal(o.status)).map((o) => o.generation_id));
  const copy = (u: GenerationUpdate) =>
    u.status === "succeeded" && Boolean(u.url) && !u.media && open.has(u.generation_id);
  if (!persist) {
    const unpersisted = (u: GenerationUpdate): GenerationUpdate =>
      copy(u) ? { ...u, media: { oxen_url: u.url as string, persisted: false } } : u;
    return { now: updates.map(unpersisted), later: [] };
  }
  return { now: updates.filter((u) => !copy(u)), later: updates.filter(copy) };
}
