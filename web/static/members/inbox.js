// The inbox page while it is open: each new message the web client relays (server-sent events from
// /inbox/stream, rendered by the server in the page's language) goes to the top of the list, and the unread
// badge is asked for again. The browser reconnects by itself after a drop, saying the last message it has.
(function () {
  "use strict";
  var list = document.getElementById("inbox-messages");
  if (!list || !list.dataset.stream || !window.EventSource) {
    return;
  }
  var source = new EventSource(list.dataset.stream);
  source.addEventListener("message", function (event) {
    if (event.lastEventId && document.getElementById("message-" + event.lastEventId)) {
      return; // already on the page
    }
    var piece = document.createElement("template");
    piece.innerHTML = event.data.trim();
    var item = piece.content.firstElementChild;
    if (!item) {
      return;
    }
    list.insertBefore(item, list.firstElementChild);
    var empty = document.getElementById("inbox-empty");
    if (empty) {
      empty.hidden = true;
    }
    if (window.htmx) {
      window.htmx.process(item);
      document.body.dispatchEvent(new CustomEvent("unread-changed"));
    }
  });
  window.addEventListener("pagehide", function () {
    source.close();
  });
})();
