"""The inbox page served at ``GET /``: pending ops and a form to answer, approve or deny each.

Plain HTML and a little JavaScript. The page itself holds no data; it reads ``GET /inbox`` and
answers through ``POST /inbox/{op_id}`` with the bearer token given in the URL fragment
(``/#token=...``, never sent to the server in the URL) or typed into the token field.
"""

from __future__ import annotations

__all__ = ["INBOX_HTML"]

INBOX_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ptclisp inbox</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.4em;
vertical-align:top;text-align:left}pre{margin:0;white-space:pre-wrap}
textarea{width:100%;height:3em}#log li{font-family:monospace}
</style></head><body>
<h1>Pending operations</h1>
<p><label>Token <input id="token" type="password" size="30"></label>
<label>Your name <input id="by" value="inbox"></label>
<button id="refresh" type="button">Refresh</button></p>
<table><thead><tr><th>Run</th><th>Tool</th><th>Args</th><th>The program</th><th>Age</th>
<th>Answer</th></tr></thead>
<tbody id="ops"><tr><td colspan="6">loading…</td></tr></tbody></table>
<h2>Answered</h2><ul id="log"></ul>
<script>
const $ = (id) => document.getElementById(id);
const hash = new URLSearchParams(location.hash.slice(1));
$("token").value = hash.get("token") || sessionStorage.getItem("ptclisp-token") || "";
function headers() {
  const t = $("token").value; sessionStorage.setItem("ptclisp-token", t);
  return Object.assign({"content-type": "application/json"},
                       t ? {"authorization": "Bearer " + t} : {});
}
function cell(row, text, pre) {
  const td = row.insertCell(); const el = document.createElement(pre ? "pre" : "span");
  el.textContent = text; td.appendChild(el); return td;
}
function note(text, id) {
  const li = document.createElement("li"); li.textContent = text; if (id) li.id = id;
  $("log").prepend(li); return li;
}
async function answer(op, body) {
  const r = await fetch("/inbox/" + encodeURIComponent(op.op_id),
                        {method: "POST", headers: headers(), body: JSON.stringify(body)});
  const data = await r.json();
  if (!r.ok) { note(op.op_id + ": " + r.status + " " + data.error.message); return; }
  const li = note("run " + op.run_id + ": " + data.status, "run-" + op.run_id);
  const done = await fetch("/runs/" + op.run_id + "?wait=30", {headers: headers()});
  const final = await done.json();
  li.textContent = "run " + op.run_id + ": " + final.status +
                   ("result" in final ? " " + JSON.stringify(final.result) : "");
  li.className = "status-" + final.status;
  load();
}
async function load() {
  const r = await fetch("/inbox", {headers: headers()});
  const tbody = $("ops"); tbody.innerHTML = "";
  if (!r.ok) { tbody.insertRow().insertCell().textContent = "error " + r.status; return; }
  const data = await r.json();
  if (!data.ops.length) { tbody.insertRow().insertCell().textContent = "nothing pending"; }
  for (const op of data.ops) {
    const row = tbody.insertRow(); row.id = "op-" + op.op_id;
    cell(row, op.run_id);
    cell(row, op.tool + (op.status ? " (" + op.status + (op.status_message ?
                                     ": " + op.status_message : "") + ")" : ""));
    cell(row, JSON.stringify(op.args, null, 1), true);
    cell(row, op.effects || "");
    cell(row, op.age_s + " s" + (op.deadline ? " (deadline set)" : ""));
    const td = row.insertCell();
    const text = document.createElement("textarea"); text.className = "result";
    text.value = "{}"; td.appendChild(text);
    const button = (label, cls, make) => {
      const b = document.createElement("button"); b.type = "button"; b.textContent = label;
      b.className = cls; b.onclick = () => answer(op, make()); td.appendChild(b);
    };
    const by = () => $("by").value;
    button("Approve", "approve", () => ({result: {approved: true, by: by()}}));
    button("Deny", "deny", () => ({result: {approved: false, by: by()}}));
    button("Answer", "answer", () => ({result: JSON.parse(text.value)}));
    button("Fail", "fail", () => ({error: {message: text.value}}));
  }
}
$("refresh").onclick = load;
load(); setInterval(load, 5000);
</script></body></html>
"""
