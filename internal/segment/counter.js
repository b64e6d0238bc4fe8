// The live SMS segment counter of the staff console: the same rules as internal/segment's Go
// counter (Count, and ToGSM when the hotline sends in GSM-7), so the cost an organizer sees
// while typing is the cost the server computes. TestCounterJSMatchesGo compares the two in
// Chromium over hundreds of strings; change both together.
//
// It is served as /console/static/segment.js (Content-Security-Policy script-src 'self'):
// no inline script, no dependencies, and no user-facing words. Every word it shows comes
// from data attributes the server fills from locales/, so the page's language is the
// counter's.
//
// MARKUP CONTRACT
//
//   <textarea name="text_es" data-segments="count-es"
//             data-recipients="1520" data-cost-per-segment="0.0079" data-gsm></textarea>
//   <p id="count-es" aria-live="polite"
//      data-text="{chars} caracteres · {encoding} · {segments} SMS"
//      data-text-one="{chars} caracteres · {encoding} · 1 SMS"
//      data-text-empty=""
//      data-text-cost=" · {cost} USD para {recipients} personas"></p>
//
// On the textarea:
//   data-segments          required: the id of the element that shows the count.
//   data-recipients        optional: how many people get this text (a number); with
//   data-cost-per-segment  optional: USD per segment; both present = a cost is shown.
//   data-gsm               optional, no value: the server rewrites the text into GSM-7 before
//                          counting and sending (HOTLINE_SMS_ENCODING=gsm); the counter does too.
//   data-newlines="lf"     optional: the server turns the CRLF line breaks a form submits into
//                          LF before counting. Without it each line break counts as CR LF
//                          (2 characters), which is what a form posts and the server then
//                          counts unless it normalizes.
// The page may change data-recipients, data-cost-per-segment or data-gsm at any time (for
// example when the areas of a broadcast change): the count follows.
//
// On the element that shows it (the templates' placeholders: {chars} {encoding} {units}
// {segments} {cost} {recipients} {total_segments}):
//   data-text        required: the text shown, with placeholders.
//   data-text-one    optional: used instead when the message is exactly 1 SMS.
//   data-text-empty  optional: used instead when the textarea is empty.
//   data-text-cost   optional: appended when there is a cost ({cost} has 2 decimals, the
//                    server's rounding).
// The counter also sets, for styles and tests, data-chars, data-encoding ("GSM-7" or
// "UCS-2"), data-units, data-sms (segments) and data-cost on that element.
//
// window.hotlineSegments = {count(s), toGSM(s), attach(root)} is exported for tests and for
// pages that add textareas after loading (call attach(newNode)).
(function () {
  "use strict";

  // Segment sizes: one GSM-7 SMS holds 160 septets, each part of a split one 153; UCS-2
  // holds 70 UTF-16 units, 67 per part. (internal/segment/segment.go)
  var GSM_SINGLE = 160, GSM_PART = 153, UCS2_SINGLE = 70, UCS2_PART = 67;

  // The characters of the GSM 03.38 basic set outside ASCII, and its extension table, which
  // costs two septets a character. Backtick is not GSM-7 (GSM puts ¿ there); tab is not.
  var GSM_BASIC_EXTRA = "£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà";
  var GSM_EXTENSION = "^{}\\[~]|€\f";

  // septets returns how many septets code point cp takes in GSM-7: 1, 2 for the extension
  // table, 0 when GSM-7 cannot write it.
  function septets(cp) {
    if (cp < 0x80) {
      if (cp === 0x0a || cp === 0x0d) return 1;
      if (cp === 0x0c) return 2;
      if (cp < 0x20 || cp === 0x7f || cp === 0x60) return 0;
      return GSM_EXTENSION.indexOf(String.fromCharCode(cp)) >= 0 ? 2 : 1;
    }
    if (cp > 0xffff) return 0;
    var ch = String.fromCharCode(cp);
    if (GSM_BASIC_EXTRA.indexOf(ch) >= 0) return 1;
    if (ch === "€") return 2;
    return 0;
  }

  // wellFormed replaces lone surrogates with U+FFFD, as the browser does when it encodes the
  // form in UTF-8; the server then counts U+FFFD, one UCS-2 character.
  function wellFormed(s) {
    if (typeof s.toWellFormed === "function") return s.toWellFormed();
    var out = "";
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff) {
        var d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) { out += s.substr(i, 2); i++; } else out += "\uFFFD";
      } else if (c >= 0xdc00 && c <= 0xdfff) out += "\uFFFD";
      else out += s.charAt(i);
    }
    return out;
  }

  // Packer lays characters into the parts of a split message as a real encoder does: a
  // character that does not fit whole in the current part (an escape pair, a surrogate pair)
  // starts the next one. (packer in segment.go)
  function Packer() { this.units = 0; this.parts = 0; this.fill = 0; }
  Packer.prototype.add = function (n, size) {
    this.units += n;
    if (this.fill + n > size) { this.parts++; this.fill = 0; }
    this.fill += n;
  };
  Packer.prototype.segments = function (single) {
    if (this.units === 0) return 0;
    if (this.units <= single) return 1;
    return this.parts + 1;
  };

  // count is segment.Count: {encoding, chars (code points), units, segments}.
  function count(s) {
    s = wellFormed(String(s));
    var chars = 0, gsm = new Packer(), ucs = new Packer(), isGSM = true;
    for (var i = 0; i < s.length; i++) {
      var cp = s.codePointAt(i);
      if (cp > 0xffff) i++;
      chars++;
      if (isGSM) {
        var n = septets(cp);
        if (n > 0) gsm.add(n, GSM_PART); else isGSM = false;
      }
      ucs.add(cp > 0xffff ? 2 : 1, UCS2_PART);
    }
    if (isGSM) return { encoding: "GSM-7", chars: chars, units: gsm.units, segments: gsm.segments(GSM_SINGLE) };
    return { encoding: "UCS-2", chars: chars, units: ucs.units, segments: ucs.segments(UCS2_SINGLE) };
  }

  // REPLACEMENTS is segment.replacements: what GSM-7 text stands for a character that
  // neither GSM-7 nor decomposition handles well.
  var REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201A": "'", "\u201B": "'", "\u2032": "'", "\u00B4": "'", "`": "'", "\u2039": "'", "\u203A": "'",
    "\u201C": "\"", "\u201D": "\"", "\u201E": "\"", "\u201F": "\"", "\u2033": "\"", "\u00AB": "\"", "\u00BB": "\"",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2022": "-", "\u2023": "-", "\u25E6": "-", "\u2219": "-", "\u2043": "-",
    "\u00B7": ".", "\u2026": "...", "\u00B0": "o", "\u2044": "/", "\u00D7": "x", "\u00A9": "(c)", "\u00AE": "(R)",
    "\u2192": "->", "\u2190": "<-",
    "\t": " ", "\u000B": " ", "\u0085": "\n", "\u2028": "\n", "\u2029": "\n"
  };
  var SPACE = /^\p{Zs}$/u;
  var INVISIBLE = /^[\p{Mn}\p{Me}\p{Cf}\p{Cc}]$/u;

  // dropped is segment.dropped: emoji, their modifiers and joiners, and invisible characters
  // are left out of a GSM-7 message.
  function dropped(cp, ch) {
    return (cp >= 0x1f000 && cp <= 0x1faff) || (cp >= 0x2600 && cp <= 0x27bf) ||
      (cp >= 0x2b00 && cp <= 0x2bff) || (cp >= 0x2300 && cp <= 0x23ff) || INVISIBLE.test(ch);
  }

  // gsmForm is segment.appendGSM: the GSM-7 text for one character.
  function gsmForm(ch, decompose) {
    var cp = ch.codePointAt(0);
    if (septets(cp) > 0) return ch;
    if (Object.prototype.hasOwnProperty.call(REPLACEMENTS, ch)) return REPLACEMENTS[ch];
    if (SPACE.test(ch)) return " ";
    if (dropped(cp, ch)) return "";
    if (!decompose) return "?";
    var out = "";
    for (var d of ch.normalize("NFKD")) out += gsmForm(d, false);
    return out;
  }

  // toGSM is segment.ToGSM: the text the server sends when HOTLINE_SMS_ENCODING=gsm.
  function toGSM(s) {
    s = wellFormed(String(s));
    if (count(s).encoding === "GSM-7") return s;
    var out = "";
    for (var ch of s.normalize("NFC")) out += gsmForm(ch, true);
    return out;
  }

  // fill replaces {name} placeholders with values; unknown names stay as written, so a typo
  // in a locale shows on the page instead of vanishing.
  function fill(template, values) {
    return template.replace(/\{([a-z_]+)\}/g, function (m, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : m;
    });
  }

  function update(area) {
    var out = document.getElementById(area.getAttribute("data-segments"));
    if (!out) return;
    var text = area.value;
    if (area.getAttribute("data-newlines") !== "lf") text = text.replace(/\r?\n/g, "\r\n");
    if (area.hasAttribute("data-gsm")) text = toGSM(text);
    var info = count(text);
    var values = { chars: info.chars, encoding: info.encoding, units: info.units, segments: info.segments };

    var template = out.getAttribute("data-text") || "";
    if (info.chars === 0 && out.hasAttribute("data-text-empty")) template = out.getAttribute("data-text-empty");
    else if (info.segments === 1 && out.hasAttribute("data-text-one")) template = out.getAttribute("data-text-one");

    var recipients = parseFloat(area.getAttribute("data-recipients"));
    var perSegment = parseFloat(area.getAttribute("data-cost-per-segment"));
    var cost = "";
    if (isFinite(recipients) && isFinite(perSegment)) {
      // The server's rounding: math.Round(segments × recipients × price × 100) / 100.
      var total = info.segments * recipients;
      cost = (Math.round(total * perSegment * 100) / 100).toFixed(2);
      values.cost = cost;
      values.recipients = recipients;
      values.total_segments = total;
      if (info.chars > 0 || !out.hasAttribute("data-text-empty")) template += out.getAttribute("data-text-cost") || "";
    }
    out.textContent = fill(template, values);
    out.setAttribute("data-chars", info.chars);
    out.setAttribute("data-encoding", info.encoding);
    out.setAttribute("data-units", info.units);
    out.setAttribute("data-sms", info.segments);
    out.setAttribute("data-cost", cost);
  }

  // attach starts counting every textarea[data-segments] in root (a document or an element),
  // once each.
  function attach(root) {
    var areas = (root || document).querySelectorAll("textarea[data-segments]");
    if (root && root.matches && root.matches("textarea[data-segments]")) areas = [root].concat(Array.from(areas));
    Array.prototype.forEach.call(areas, function (area) {
      if (area.hotlineSegments) return;
      area.hotlineSegments = true;
      var recount = function () { update(area); };
      area.addEventListener("input", recount);
      new MutationObserver(recount).observe(area, {
        attributes: true, attributeFilter: ["data-recipients", "data-cost-per-segment", "data-gsm", "data-newlines"]
      });
      recount();
    });
  }

  window.hotlineSegments = { count: count, toGSM: toGSM, attach: attach };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { attach(document); });
  else attach(document);
})();
