// sessionlens web UI: the live view of a transcript (server-sent events). No framework, no inline script.
// The transcript itself (filters, folding, find, deep links) is the reader's script, /static/transcript.js.
"use strict";
(function () {
  // live: the server says when the session's log grew; fetch the turns that changed, as HTML, and
  // put each in place of the page's turn of the same id (a growing last turn) or append it
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
          tpl.innerHTML = html; // server-rendered, sanitized fragment from our own origin
          var turns = document.querySelector("#transcript .sl-turns");
          var toc = document.querySelector("#transcript .sl-toc ul");
          Array.prototype.slice.call(tpl.content.children).forEach(function (sec) {
            var old = sec.id ? document.getElementById(sec.id) : null;
            if (old) { old.replaceWith(sec); return; }
            turns.appendChild(sec);
            var head = sec.querySelector(".sl-turn-head a");
            if (toc && head && sec.id) {
              var li = document.createElement("li"), a = document.createElement("a");
              // the same label the server gives a turn in the list ("2. the prompt")
              var n = sec.getAttribute("data-turn");
              var prompt = head.textContent.replace(/^Turn \d+:?\s*/, "");
              a.href = "#" + sec.id; a.setAttribute("data-target", sec.id);
              a.textContent = (n !== "" && n !== null ? (Number(n) + 1) + ". " : "") + prompt.slice(0, 60);
              li.appendChild(a); toc.appendChild(li);
            }
          });
        });
      });
    });
    es.onerror = function () { live.classList.remove("on"); };
  }
})();
