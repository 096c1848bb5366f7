// The console: a client's recent edits, inputs beside outputs, and every webhook attempt.
// The api key lives in this page's memory only (no storage another page of this origin can read)
// and is sent only to this relay.
const form = document.getElementById("signin");
const keyInput = document.getElementById("key");
const table = document.getElementById("edits");
const tbody = table.querySelector("tbody");
const errorBox = document.getElementById("error");
let timer = null;
let apiKey = "";

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

async function api(path, method = "GET") {
  const res = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${apiKey}` },
  });
  if (res.status === 204) return null;
  const body = await res.json();
  if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
  return body;
}

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

// Erases a finished edit now: its images, its record, its webhook log (the API's DELETE).
function deleteButton(id) {
  const button = el("button", { type: "button", class: "delete", "data-delete": id }, ["Delete"]);
  button.addEventListener("click", async () => {
    if (!confirm(`Delete ${id} and its images for good?`)) return;
    try {
      await api(`/v1/edits/${id}`, "DELETE");
      await render();
    } catch (e) {
      errorBox.textContent = e.message;
    }
  });
  return button;
}

function images(urls, cls) {
  return urls.filter(Boolean).map((src) => el("img", { src, class: cls, alt: cls, loading: "lazy" }));
}

async function render() {
  try {
    const { data } = await api("/v1/edits?limit=20");
    const rows = await Promise.all(
      data.map(async (edit) => {
        const { data: attempts } = await api(`/v1/edits/${edit.id}/deliveries`);
        const lines = attempts.map(
          (a) =>
            `${a.type} → ${a.url}\n  #${a.attempt} ${a.status_code ?? "—"} ${a.error ?? "ok"} (${a.duration_ms} ms)`,
        );
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
          el("td", { class: "attempts" }, [lines.join("\n") || "none yet"]),
          el("td", {}, TERMINAL.has(edit.status) ? [deleteButton(edit.id)] : []),
        ]);
      }),
    );
    tbody.replaceChildren(...rows);
    table.hidden = false;
    errorBox.textContent = data.length === 0 ? "No edits yet." : "";
  } catch (e) {
    errorBox.textContent = e.message;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  apiKey = keyInput.value.trim();
  keyInput.value = "";
  render();
  clearInterval(timer);
  timer = setInterval(render, 5000);
});
