// TinyTodo's only script: the pages work without it. It asks before a destructive
// form post (data-confirm), suggests only teams or only users in the share form as its
// "Kind" says, and, after a post, puts the keyboard focus where the URL's
// fragment says: back on the task just changed (#task-N, its first control) or in the
// field to type the next task (#new-task); other fragments only scroll.
"use strict";
document.documentElement.dataset.js = "on";
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
document.addEventListener("change", (event) => {
  const kind = event.target;
  const name = document.getElementById("share-name");
  if (kind instanceof HTMLSelectElement && kind.id === "share-kind" && name) {
    name.setAttribute("list", `share-${kind.value}`);
  }
});
window.addEventListener("load", () => {
  const hash = window.location.hash;
  let control = null;
  if (/^#task-\d+$/.test(hash)) {
    const task = document.getElementById(hash.slice(1));
    control = task ? task.querySelector("button, summary, a, input:not([type=hidden])") : null;
  } else if (hash === "#new-task") {
    control = document.getElementById("new-task");
  }
  if (control instanceof HTMLElement) {
    control.focus();
  }
});
