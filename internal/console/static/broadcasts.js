// The broadcasts pages' script (no inline script: the CSP allows files from 'self' only).
// Without it the pages still work: the compose form posts, and the progress section has a
// refresh link.
//
// Compose: when areas are ticked, each text's counter is told how many people read that
// language (the sum of the ticked areas' counts, or everyone's), so its cost follows;
// counter.js (segment.js) does the counting. The preview after saving counts exactly.
//
// Progress: while a broadcast is sending, GET its progress.json every 2 s (counts only) and
// show the counts; when it is done, reload the page, which then shows its final state.
(function () {
  "use strict";

  function recount(form) {
    var boxes = form.querySelectorAll('input[type="checkbox"][name="area"], input[type="checkbox"][name="everyone"]');
    var everyone = form.querySelector('input[name="everyone"]');
    var texts = form.querySelectorAll("textarea[data-lang]");
    for (var i = 0; i < texts.length; i++) {
      var ta = texts[i], lang = ta.getAttribute("data-lang"), n = 0;
      if (!ta.hasAttribute("data-cost-per-segment")) continue;
      for (var j = 0; j < boxes.length; j++) {
        var b = boxes[j];
        if (!b.checked) continue;
        if (everyone && everyone.checked && b !== everyone) continue;
        n += parseInt(b.getAttribute("data-n-" + lang) || "0", 10);
      }
      if (n > 0) ta.setAttribute("data-recipients", String(n));
      else ta.removeAttribute("data-recipients");
    }
  }

  var form = document.getElementById("compose");
  if (form) {
    form.addEventListener("change", function (ev) {
      if (ev.target && ev.target.type === "checkbox") recount(form);
    });
    recount(form);
  }

  var section = document.getElementById("progress");
  var url = section && section.getAttribute("data-poll");
  if (!url) return;
  var bar = section.querySelector("progress");

  function show(p) {
    var cells = section.querySelectorAll("[data-count]");
    for (var i = 0; i < cells.length; i++) {
      var k = cells[i].getAttribute("data-count");
      if (typeof p[k] === "number") cells[i].textContent = String(p[k]);
    }
    if (bar) {
      bar.max = p.total > 0 ? p.total : 1;
      bar.value = p.handled;
      bar.textContent = p.handled + " / " + p.total;
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("progress " + r.status);
        return r.json();
      })
      .then(function (p) {
        show(p);
        if (p.done) window.location.reload();
        else setTimeout(poll, 2000);
      })
      .catch(function () {
        setTimeout(poll, 5000); // a network hiccup: keep trying, more slowly
      });
  }
  setTimeout(poll, 2000);
})();
