/** Whether a webhook URL may be called; null when it may, else the reason. */
export function checkWebhookUrl(raw: string, opts: { allowPrivate: boolean }): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "not a valid URL";
  }
  if (url.username || url.password) return "credentials in the URL are not allowed";
  if (url.protocol !== "https:" && !(opts.allowPrivate && url.protocol === "http:")) return "must use https";
  return null;
}
