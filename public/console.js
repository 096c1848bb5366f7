// The console: a client's recent edits, inputs beside outputs, and every webhook attempt with what
// the receiver answered; the client's endpoints with their health; its usage over the last 7 days.
// The api key lives in this page's memory only (no storage another page of this origin can read)
// and is sent only to this relay. Everything the API answers is put in the page as text
// (textContent and attributes), never parsed as HTML.
const form = document.getElementById("signin");
const keyInput = document.getElementById("key");
const main = document.getElementById("console");
const errorBox = document.getElementById("error");
const editsBody = document.querySelector("#edits tbody");
const endpointForm = document.getElementById("endpoint-form");
const endpointsBody = document.querySelector("#endpoints tbody");
const endpointsMessage = document.getElementById("endpoints-message");
const usageBody = document.querySelector("#usage tbody");
const usageSummary = document.getElementById("usage-summary");
const usageError = document.getElementById("usage-error");
let timer = null;
let apiKey = "";

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

async function api(path, method = "GET", body = undefined) {
  const headers = { authorization: `Bearer ${apiKey}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const answer = await res.json().catch(() => null);
  if (!res.ok) {
    const err = answer?.error;
    const issues = (err?.issues ?? []).map((i) => `${i.path}: ${i.message}`).join("; ");
    throw new Error(`${err?.message ?? `HTTP ${res.status}`}${issues ? ` (${issues})` : ""}`);
  }
  return answer;
}

/** "2026-12-01T10:17:55.123Z" → "2026-12-01 10:17:55 UTC"; null → the fallback. */
function when(iso, fallback = "never") {
  return iso ? iso.replace("T", " ").replace(/(\.\d+)?Z$/, " UTC") : fallback;
}

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

// Edits

// Erases a finished edit now: its images, its record, its webhook log (the API's DELETE).
function deleteButton(id) {
  const button = el("button", { type: "button", class: "delete", "data-delete": id }, ["Delete"]);
  button.addEventListener("click", async () => {
    if (!confirm(`Delete ${id} and its images for good?`)) return;
    try {
      await api(`/v1/edits/${encodeURIComponent(id)}`, "DELETE");
      await refresh();
    } catch (e) {
      errorBox.textContent = e.message;
    }
  });
  return button;
}

function images(urls, cls) {
  return urls.filter(Boolean).map((src) => el("img", { src, class: cls, alt: cls, loading: "lazy" }));
}

// One webhook attempt, and the start of the receiver's answer (text, whatever it holds).
function attemptNode(a) {
  const line = `${a.type} → ${a.url}\n  #${a.attempt} ${a.status_code ?? "—"} ${a.error ?? "ok"} (${a.duration_ms} ms)`;
  return el("div", { class: "attempt" }, [
    line,
    a.next_attempt_at ? `\n  next attempt ${when(a.next_attempt_at)}` : null,
    a.response
      ? el("div", { class: "response", title: "The receiver's answer (first 4 KB)" }, [a.response])
      : null,
  ]);
}

async function renderEdits() {
  try {
    const { data } = await api("/v1/edits?limit=20");
    const rows = await Promise.all(
      data.map(async (edit) => {
        const { data: attempts } = await api(`/v1/edits/${encodeURIComponent(edit.id)}/deliveries`);
        return el("tr", { "data-edit": edit.id }, [
          el("td", {}, [
            el("div", {}, [edit.id]),
            el("small", {}, [edit.created_at]),
            el("div", {}, [edit.input.prompt]),
          ]),
          el("td", { class: `status ${edit.status}` }, [
            edit.status,
            edit.error ? `: ${edit.error.message}` : "",
          ]),
          el("td", {}, images(edit.input.input_image, "input")),
          el(
            "td",
            {},
            images(
              edit.outputs.map((o) => o.url),
              "output",
            ),
          ),
          el("td", { class: "attempts" }, attempts.length > 0 ? attempts.map(attemptNode) : ["none yet"]),
          el("td", {}, TERMINAL.has(edit.status) ? [deleteButton(edit.id)] : []),
        ]);
      }),
    );
    editsBody.replaceChildren(...rows);
    errorBox.textContent = data.length === 0 ? "No edits yet." : "";
  } catch (e) {
    errorBox.textContent = e.message;
  }
}

// Endpoints

function say(text, isError = false) {
  endpointsMessage.textContent = text;
  endpointsMessage.className = isError ? "error" : "";
}

// Runs an endpoint action with its button disabled, then shows the page as it now stands.
async function act(button, action) {
  button.disabled = true;
  try {
    await action();
  } catch (e) {
    say(e.message, true);
  } finally {
    button.disabled = false;
  }
  await refresh();
}

function endpointButton(label, cls, ep, action) {
  const button = el("button", { type: "button", class: cls, "data-endpoint-action": cls }, [label]);
  button.addEventListener("click", () => act(button, () => action(ep)));
  return button;
}

async function setStatus(ep) {
  const status = ep.status === "active" ? "paused" : "active";
  await api(`/v1/endpoints/${encodeURIComponent(ep.id)}`, "PATCH", { status });
  say(status === "paused" ? `Paused ${ep.id}: its events are held.` : `Resumed ${ep.id}.`);
}

async function removeEndpoint(ep) {
  if (!confirm(`Delete the endpoint ${ep.url}? The events it holds are dropped.`)) return;
  await api(`/v1/endpoints/${encodeURIComponent(ep.id)}`, "DELETE");
  say(`Deleted ${ep.id}.`);
}

async function recover(ep) {
  const dayAgo = new Date(Date.now() - 86_400_000).toISOString();
  const answer = prompt(
    `Send ${ep.url} again every event since this time that it has not acknowledged (ISO 8601):`,
    dayAgo,
  );
  if (answer === null) return;
  const since = Date.parse(answer.trim());
  if (Number.isNaN(since)) throw new Error(`Not a time: ${answer}`);
  const { events } = await api(`/v1/endpoints/${encodeURIComponent(ep.id)}/recover`, "POST", {
    since: new Date(since).toISOString(),
  });
  say(`${ep.id}: ${events} ${events === 1 ? "event" : "events"} will be re-sent.`);
}

function healthNode(h) {
  const item = (name, label, value) =>
    el("div", { class: `health-${name}` }, [`${label}: `, el("span", { "data-health": name }, [value])]);
  return el("div", { class: "health" }, [
    item("last-attempt", "last attempt", when(h.last_attempt_at)),
    item("last-success", "last success", when(h.last_success_at)),
    h.failing_since ? item("failing-since", "failing since", when(h.failing_since)) : null,
    item(
      "success-rate",
      "success rate 24h",
      h.success_rate_24h === null ? "—" : `${Math.round(h.success_rate_24h * 1000) / 10}%`,
    ),
    item("pending", "pending", String(h.pending)),
  ]);
}

function endpointRow(ep) {
  return el("tr", { "data-endpoint": ep.id }, [
    el("td", {}, [
      el("div", { class: "url" }, [ep.url]),
      ep.description ? el("div", { class: "description" }, [ep.description]) : null,
      el("small", {}, [ep.id]),
    ]),
    el("td", { class: "events" }, [ep.events.join("\n")]),
    el("td", { class: `status ${ep.status}` }, [ep.status]),
    el("td", {}, [healthNode(ep.health)]),
    el("td", { class: "actions" }, [
      endpointButton(ep.status === "active" ? "Pause" : "Resume", "toggle", ep, setStatus),
      endpointButton("Recover", "recover", ep, recover),
      endpointButton("Delete", "remove", ep, removeEndpoint),
    ]),
  ]);
}

async function renderEndpoints() {
  try {
    const { data } = await api("/v1/endpoints");
    endpointsBody.replaceChildren(
      ...(data.length > 0
        ? data.map(endpointRow)
        : [el("tr", { class: "empty" }, [el("td", { colspan: "5" }, ["No endpoints yet."])])]),
    );
  } catch (e) {
    say(e.message, true);
  }
}

endpointForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = endpointForm.querySelector("button[type=submit]");
  const url = document.getElementById("endpoint-url").value.trim();
  const description = document.getElementById("endpoint-description").value.trim();
  const events = [...endpointForm.querySelectorAll("input[name=events]:checked")].map((i) => i.value);
  if (events.length === 0) {
    say("Choose at least one event.", true);
    return;
  }
  await act(button, async () => {
    const ep = await api("/v1/endpoints", "POST", { url, events, ...(description ? { description } : {}) });
    endpointForm.reset();
    say(`Added ${ep.id}.`);
  });
});

// Usage

const USAGE_COLUMNS = [
  "edits_created",
  "generations_succeeded",
  "generations_failed",
  "generations_cancelled",
  "webhooks_delivered",
  "webhooks_failed",
];

async function renderUsage() {
  const day = (t) => new Date(t).toISOString().slice(0, 10);
  const from = day(Date.now() - 6 * 86_400_000);
  const to = day(Date.now());
  try {
    const usage = await api(`/v1/usage?from=${from}&to=${to}`);
    const rows = [...usage.data]
      .reverse()
      .map((u) =>
        el("tr", { "data-date": u.date, "data-model": u.model }, [
          el("td", {}, [u.date]),
          el("td", {}, [u.model]),
          ...USAGE_COLUMNS.map((c) => el("td", { "data-col": c, class: "number" }, [String(u[c])])),
        ]),
      );
    usageBody.replaceChildren(
      ...(rows.length > 0
        ? rows
        : [el("tr", { class: "empty" }, [el("td", { colspan: "8" }, [`No usage from ${from} to ${to}.`])])]),
    );
    const { limits, today } = usage;
    usageSummary.textContent =
      `Today: ${today.active_generations} generations running (limit ${limits.max_active_generations}), ` +
      `${today.generations} started (limit ${limits.generations_per_day} per UTC day).`;
    usageError.textContent = "";
  } catch (e) {
    usageError.textContent = e.message;
  }
}

// One refresh at a time, in order: a refresh asked for during one runs again once it ends, so
// what the page shows never goes back to an older state.
let running = null;
let again = false;
function refresh() {
  if (running) {
    again = true;
    return running;
  }
  main.setAttribute("aria-busy", "true");
  running = (async () => {
    do {
      again = false;
      await Promise.all([renderEdits(), renderEndpoints(), renderUsage()]);
    } while (again);
    running = null;
    main.removeAttribute("aria-busy");
  })();
  return running;
}

document.getElementById("refresh").addEventListener("click", () => refresh());

form.addEventListener("submit", (event) => {
  event.preventDefault();
  apiKey = keyInput.value.trim();
  keyInput.value = "";
  main.hidden = false;
  refresh();
  clearInterval(timer);
  timer = setInterval(refresh, 5000);
});
