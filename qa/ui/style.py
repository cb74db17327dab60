"""How the chat UI looks and the one script it runs: passed to Gradio's `launch(css=, head=)`.

Static text, kept apart from the HTML builders in `qa.ui.html`; the class names here are the
ones those functions emit.
"""

CSS = """
#qa-sources { overflow-y: auto; }
.qa-sources-empty, .qa-no-sources { color: var(--body-text-color-subdued); font-size: 0.95em; }
.qa-sources-for { font-size: 0.85em; color: var(--body-text-color-subdued); margin-bottom: 6px; }
.qa-source {
  border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px;
  margin: 0 0 10px; background: var(--background-fill-secondary); scroll-margin: 16px;
}
.qa-source.qa-flash { animation: qa-flash 1.8s ease-out; }
@keyframes qa-flash {
  from { box-shadow: 0 0 0 3px var(--color-accent); } to { box-shadow: 0 0 0 0 transparent; }
}
.qa-n { font-weight: 700; color: var(--color-accent); }
.qa-title { font-weight: 600; }
.qa-meta { font-size: 0.82em; color: var(--body-text-color-subdued); margin: 2px 0 6px; }
.qa-passage {
  margin: 0; padding: 2px 0 2px 10px; border-left: 3px solid var(--border-color-accent);
  font-size: 0.9em; line-height: 1.45; overflow-wrap: anywhere;
}
.qa-passage mark { background: #fde68a; color: #1f2937; padding: 0 1px; border-radius: 2px; }
.qa-earlier > summary { cursor: pointer; font-size: 0.85em; margin: 8px 0; }
a.qa-cite { text-decoration: none; font-weight: 600; cursor: pointer; }
.qa-query { font-size: 0.78em; color: var(--body-text-color-subdued); margin-top: 8px; }
.qa-notice { font-size: 0.85em; margin-top: 6px; padding: 4px 8px; border-radius: 6px;
  background: var(--background-fill-secondary); }
.qa-removed { font-size: 0.85em; margin-top: 6px; }
.qa-removed summary { cursor: pointer; }
.qa-reason { color: var(--body-text-color-subdued); }
.qa-error, .qa-message.qa-error, .qa-failed { color: var(--error-text-color, #b91c1c); }
.qa-cursor { opacity: 0.6; }
.qa-head {
  display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 10px; margin-bottom: 4px;
}
.qa-short { font-weight: 700; font-size: 1.15em; }
.qa-verdict { font-size: 0.8em; font-weight: 600; padding: 1px 8px; border-radius: 999px; }
.qa-well { background: #dcfce7; color: #166534; }
.qa-weak { background: #fef3c7; color: #92400e; }
.qa-none { background: var(--background-fill-secondary); color: var(--body-text-color-subdued); }
.qa-verdict.qa-near-miss { background: #e0e7ff; color: #3730a3; }
.qa-conflict { background: #fee2e2; color: #991b1b; }
.qa-sides { display: flex; flex-direction: column; gap: 4px; margin-top: 6px; }
.qa-side { border-left: 3px solid #f87171; padding: 2px 8px; }
.qa-side-short { font-size: 1.1em; }
.qa-side-source { font-size: 0.85em; color: var(--body-text-color-subdued); }
.qa-confidence { font-size: 0.72em; color: var(--body-text-color-subdued); }
.qa-answer.qa-near-miss > .qa-text {
  border-left: 3px dashed #6366f1; padding-left: 8px; font-style: italic;
}
.qa-cited { font-size: 0.8em; color: var(--body-text-color-subdued); margin-top: 4px; }
.qa-waiting { font-style: italic; color: var(--body-text-color-subdued); }
.qa-report ul { margin: 4px 0 0 18px; }
"""
"""Styles for the HTML above (passed to `launch(css=...)`)."""

HEAD = """<script>
// Clicking an [n] marker in an answer brings its source card into view. The chatbot renders
// links to open in a new tab, so the click is taken over here (capture phase, before it).
document.addEventListener("click", (event) => {
  const link = event.target instanceof Element && event.target.closest('a[href^="#src-"]');
  if (!link) return;
  const card = document.getElementById(link.getAttribute("href").slice(1));
  if (!card) return;
  event.preventDefault();
  event.stopPropagation();
  for (let d = card.closest("details"); d; d = d.parentElement.closest("details")) d.open = true;
  card.scrollIntoView({ behavior: "smooth", block: "nearest" });
  card.classList.remove("qa-flash");
  void card.offsetWidth;
  card.classList.add("qa-flash");
}, true);
</script>"""
"""The script behind the [n] links (passed to `launch(head=...)`)."""
