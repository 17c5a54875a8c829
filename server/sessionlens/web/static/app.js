// sessionlens web UI: kind filters and the live view (server-sent events). No framework, no inline script.
"use strict";
(function () {
  // show/hide event kinds in a transcript
  document.querySelectorAll("[data-kind-toggle]").forEach(function (box) {
    box.addEventListener("change", function () {
      var kind = box.getAttribute("data-kind-toggle");
      document.querySelectorAll('article.ev[data-kind="' + kind + '"]').forEach(function (el) {
        el.classList.toggle("hidden", !box.checked);
      });
    });
  });
  // live: the server says when the session's log grew; fetch the new events as HTML and append them
  var live = document.getElementById("live");
  if (live && window.EventSource) {
    var sid = live.getAttribute("data-session");
    var base = "/s/" + encodeURIComponent(sid);
    var es = new EventSource(base + "/live");
    es.addEventListener("hello", function () { live.classList.add("on"); });
    es.addEventListener("grew", function () {
      var after = live.getAttribute("data-after") || "0";
      fetch(base + "/events?after=" + encodeURIComponent(after), { credentials: "same-origin" }).then(function (r) {
        var last = r.headers.get("X-Last-Seq");
        return r.text().then(function (html) {
          if (last) live.setAttribute("data-after", last);
          if (!html.trim()) return;
          var tpl = document.createElement("template");
          tpl.innerHTML = html; // server-rendered, escaped fragment from our own origin
          document.getElementById("transcript").appendChild(tpl.content);
        });
      });
    });
    es.onerror = function () { live.classList.remove("on"); };
  }
  // jump to a deep-linked event even when the transcript is long
  if (location.hash && /^#e\d+$/.test(location.hash)) {
    var el = document.getElementById(location.hash.slice(1));
    if (el) el.scrollIntoView({ block: "center" });
  }
})();
