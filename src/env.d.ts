// Secrets are not in wrangler.toml, so `wrangler types` cannot see them.
interface __BaseEnv_Env {
  OXEN_API_KEY?: string;
  ADMIN_TOKEN?: string;
  /** 32 bytes, base64: seals webhook signing secrets at rest (AES-GCM). */
  ENCRYPTION_KEY?: string;
  /** Signs file and event-stream URLs; derived from ADMIN_TOKEN when unset. */
  FILE_URL_SECRET?: string;
  /** "true" only for the chaos run: enables POST /_chaos/abort. Never set it in production. */
  CHAOS_HOOKS?: string;
}
