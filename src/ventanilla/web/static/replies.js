// The reply panel: saved replies on keys 1-9 (Alt+key while typing), the private hand-off draft,
// and re-linting after a change made by script. Plain DOM, CSP-safe; app.js keeps its own keys.
(function () {
  "use strict";
  const box = () => document.getElementById("reply-text");
  const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  const templateText = (selector) => {
    const tpl = document.querySelector(selector);
    return tpl ? tpl.content.textContent : null;
  };

  function relint() {
    const textarea = box();
    if (textarea && window.htmx) window.htmx.trigger(textarea, "lint-now");
  }

  function insert(text) {
    const textarea = box();
    if (!textarea || text === null) return;
    const start = textarea.selectionStart ?? textarea.value.length;
    const end = textarea.selectionEnd ?? textarea.value.length;
    const before = textarea.value.slice(0, start);
    const glue = before && !/\s$/.test(before) ? " " : "";
    textarea.value = before + glue + text + textarea.value.slice(end);
    const caret = (before + glue + text).length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    relint();
  }

  function useDraft(kind) {
    const textarea = box();
    const text = templateText(`template[data-draft="${kind}"]`);
    if (!textarea || text === null) return;
    textarea.value = text;
    const flag = document.querySelector("[data-lint-public]");
    if (flag) flag.value = kind === "public" ? "1" : "0";
    textarea.focus();
    relint();
  }

  document.addEventListener("keydown", (ev) => {
    if (!box() || ev.ctrlKey || ev.metaKey || !/^[1-9]$/.test(ev.key)) return;
    const inReplyBox = ev.target === box();
    // Outside any field the digit alone inserts; inside the reply box it takes Alt (digits are text).
    if ((ev.altKey && inReplyBox) || (!ev.altKey && !typing(ev.target))) {
      const text = templateText(`template[data-macro-body="${ev.key}"]`);
      if (text !== null) { ev.preventDefault(); insert(text); }
    }
  });

  document.addEventListener("click", (ev) => {
    const macro = ev.target.closest("[data-macro]");
    if (macro) { insert(templateText(`template[data-macro-body="${macro.dataset.macro}"]`)); return; }
    const draft = ev.target.closest("[data-use-draft]");
    if (draft) { useDraft(draft.dataset.useDraft); return; }
    const send = ev.target.closest("[data-send]");
    if (send) {
      const flag = document.querySelector("[data-lint-public]");
      if (flag) flag.value = send.dataset.send === "public" ? "1" : "0";
    }
  });
})();
