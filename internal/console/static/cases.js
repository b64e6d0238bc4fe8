// The cases and reports pages' live updates, by polling every 2 s (docs/console.md): a case's
// new lines are appended (as text, never as HTML); a list reloads when its cases change. The
// pages work without this script: each has a refresh link.
(function () {
  "use strict";
  var every = 2000;

  function get(url, then) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) { if (j) { then(j); } })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  function line(l) {
    var li = document.createElement("li");
    li.className = l.member ? "from-member" : "from-team";
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = l.who;
    li.appendChild(who);
    if (l.time) {
      var t = document.createElement("time");
      t.textContent = l.time;
      li.appendChild(document.createTextNode(" "));
      li.appendChild(t);
    }
    var p = document.createElement("p");
    p.textContent = l.text;
    li.appendChild(p);
    return li;
  }

  var lines = document.getElementById("lines");
  if (lines) {
    var poll = function () {
      get(lines.dataset.src + "?after=" + encodeURIComponent(lines.dataset.next), function (j) {
        (j.lines || []).forEach(function (l) { lines.appendChild(line(l)); });
        if (j.lines && j.lines.length) {
          var none = document.getElementById("no-lines");
          if (none) { none.hidden = true; }
        }
        lines.dataset.next = String(j.next);
        if (j.status !== lines.dataset.status) {
          document.getElementById("changed").hidden = false;
        }
      });
    };
    setInterval(poll, every);
  }

  var list = document.getElementById("case-list");
  if (list) {
    setInterval(function () {
      get(list.dataset.src, function (j) {
        if (j.sig !== list.dataset.sig) { window.location.reload(); }
      });
    }, every);
  }
})();
