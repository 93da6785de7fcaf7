// Keyboard work for the inbox and the case view. No framework: plain DOM, CSP-safe.
(function () {
  "use strict";
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

  function toast(text) {
    const t = document.createElement("div");
    t.className = "toast"; t.setAttribute("role", "status"); t.textContent = text;
    document.body.appendChild(t); setTimeout(() => t.remove(), 3000);
  }

  function rows() { return Array.from(document.querySelectorAll("[data-inbox] tbody tr[data-case]")); }
  function selected() { return document.querySelector("[data-inbox] tr.selected"); }
  function select(row) {
    rows().forEach((r) => r.classList.remove("selected"));
    if (row) { row.classList.add("selected"); row.scrollIntoView({ block: "nearest" }); row.focus({ preventScroll: true }); }
  }
  function move(step) {
    const all = rows(); if (!all.length) return;
    const i = all.indexOf(selected());
    select(all[Math.max(0, Math.min(all.length - 1, i < 0 ? 0 : i + step))]);
  }

  async function assignToMe(caseId, version, onDone) {
    const body = new URLSearchParams({ assignee: "me", version: version || "", csrf_token: csrf() });
    const res = await fetch(`/cases/${caseId}/assign`, { method: "POST", body,
      headers: { Accept: "application/json", "X-CSRF-Token": csrf() } });
    const data = await res.json().catch(() => ({}));
    if (res.ok) { onDone(data); toast(document.documentElement.lang === "es" ? "Asignado a ti" : "Assigned to you"); }
    else if (res.status === 409) { toast((document.documentElement.lang === "es" ? "Ya lo tiene: " : "Already taken by: ") + (data.holder || "?")); }
    else { toast(data.error || res.statusText); }
  }

  let lastKey = "";
  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
    const help = document.getElementById("help");
    const key = ev.key;
    if (key === "?") { ev.preventDefault(); help.open ? help.close() : help.showModal(); return; }
    if (lastKey === "g" && key === "i") { window.location = "/"; return; }
    lastKey = key;
    if (key === "/") { const s = document.getElementById("search"); if (s) { ev.preventDefault(); s.focus(); } return; }
    if (document.querySelector("[data-inbox]")) {
      if (key === "j") { ev.preventDefault(); move(1); }
      else if (key === "k") { ev.preventDefault(); move(-1); }
      else if (key === "Enter" && selected()) { window.location = selected().dataset.href; }
      else if (key === "a" && selected()) {
        const row = selected();
        assignToMe(row.dataset.case, row.dataset.version, (data) => {
          row.dataset.version = data.version;
          const cell = row.querySelector("[data-assignee]");
          const me = document.querySelector("header .who span");
          if (cell && me) cell.textContent = me.textContent.split(" · ")[0];
        });
      }
      return;
    }
    const page = document.querySelector("[data-case-page]");
    if (page) {
      if (key === "a") { const form = document.querySelector("[data-assign-me]"); if (form) { ev.preventDefault(); form.requestSubmit(); } }
      else if (key === "n") { const note = document.getElementById("note"); if (note) { ev.preventDefault(); note.focus(); } }
    }
  });

  document.addEventListener("click", (ev) => {
    const help = ev.target.closest("[data-help]");
    if (help) { document.getElementById("help").showModal(); return; }
    const row = ev.target.closest("[data-inbox] tbody tr[data-case]");
    if (row && !ev.target.closest("a")) { if (row.classList.contains("selected")) window.location = row.dataset.href; else select(row); }
  });
  document.addEventListener("change", (ev) => {
    if (ev.target.matches("[data-autosubmit]")) ev.target.form.requestSubmit();
  });
  document.addEventListener("DOMContentLoaded", () => { const first = rows()[0]; if (first) select(first); });
})();
