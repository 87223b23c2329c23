// Live activity feed: follows /api/v1/events/stream (the session cookie
// authenticates it) and prepends each new event. Values are set with
// textContent only, so event data can never inject markup.
(function () {
  "use strict";
  var table = document.getElementById("events");
  if (!table) { return; }
  var body = table.tBodies[0];
  var live = document.getElementById("live");
  var MAX_ROWS = 200;

  function setState(state) {
    live.dataset.state = state;
    live.textContent = state;
  }

  function cell(text, cls, tag) {
    var td = document.createElement("td");
    var inner = tag ? document.createElement(tag) : td;
    inner.textContent = text;
    if (tag) { td.appendChild(inner); }
    if (cls) { td.className = cls; }
    return td;
  }

  function add(ev) {
    if (body.querySelector('tr[data-seq="' + ev.seq + '"]')) { return; }
    var tr = document.createElement("tr");
    tr.dataset.seq = String(ev.seq);
    tr.className = "new";
    tr.appendChild(cell(String(ev.seq)));
    tr.appendChild(cell(ev.time, null, "time"));
    tr.appendChild(cell(ev.kind, "kind"));
    tr.appendChild(cell(ev.subject));
    tr.appendChild(cell(ev.actor));
    tr.appendChild(cell(JSON.stringify(ev.data), null, "code"));
    body.insertBefore(tr, body.firstChild);
    while (body.rows.length > MAX_ROWS) { body.deleteRow(body.rows.length - 1); }
    var empty = document.getElementById("empty");
    if (empty) { empty.remove(); }
  }

  var after = table.dataset.lastSeq || "0";
  var source = new EventSource("/api/v1/events/stream?after=" + encodeURIComponent(after));
  source.onopen = function () { setState("live"); };
  source.onerror = function () { setState(source.readyState === EventSource.CLOSED ? "offline" : "connecting"); };
  source.onmessage = function (msg) {
    try { add(JSON.parse(msg.data)); } catch (e) { /* ignore a malformed message */ }
  };
})();
