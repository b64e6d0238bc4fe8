// The simulator page without reloads: the send form posts with fetch, and the conversation
// is swapped for the one in the page the server answers with (the same page a browser
// without this script gets after its POST), so the server stays the only one that renders.
// Enter sends; Shift+Enter makes a new line.
(function () {
  "use strict";
  var form = document.getElementById("sim-send");
  var log = document.getElementById("sim-log");
  if (!form || !log || !window.fetch || !window.DOMParser) return;
  var text = document.getElementById("sim-text");
  var button = form.querySelector("button");
  function toEnd() { log.scrollTop = log.scrollHeight; }
  toEnd();
  window.addEventListener("resize", toEnd); // a narrower window wraps more lines: keep the last in view
  text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (form.requestSubmit) form.requestSubmit(); else form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!text.value.trim() || button.disabled) return;
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin"
    }).then(function (res) {
      if (!res.ok) throw new Error("status " + res.status);
      return res.text();
    }).then(function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("sim-log");
      if (!fresh) throw new Error("no conversation in the answer");
      log.replaceChildren.apply(log, Array.prototype.map.call(fresh.childNodes, function (n) { return document.importNode(n, true); }));
      text.value = "";
      toEnd();
    }).catch(function () {
      window.location.assign("/console/simulator"); // show what the server has, error page or not
    }).finally(function () {
      button.disabled = false;
      text.focus();
    });
  });
})();
