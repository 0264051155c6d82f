// TinyTodo's only script: the pages work without it. It asks before a destructive
// form post (data-confirm) and, after a post that changed a task, puts the keyboard
// focus back on that task's first control (the URL's #task-N; other fragments only scroll).
"use strict";
document.documentElement.dataset.js = "on";
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
window.addEventListener("load", () => {
  const id = decodeURIComponent(window.location.hash.slice(1));
  const target = /^task-\d+$/.test(id) ? document.getElementById(id) : null;
  const control = target ? target.querySelector("button, summary, a, input:not([type=hidden])") : null;
  if (control instanceof HTMLElement) {
    control.focus();
  }
});
