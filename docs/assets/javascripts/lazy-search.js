// Fetch the search index and start the search worker when the reader first opens search, not on
// every page load.
//
// The theme requests the index and starts its search worker (a 40 kB script) as soon as a page
// loads over http(s), and the index covers the whole site, so every page would carry both in its
// weight. This holds them back until search is opened: the "/" "s" "f" shortcuts, or a focus in or click on the search box,
// toggle or button. Then it is sent unchanged, and the theme shows "Initializing search" for the
// moment it takes. A page opened from a search result (?h=term) needs the index to highlight
// the term, so there it goes at once.
//
// The theme override (docs/overrides/main.html) loads this before the theme's bundle. The
// index is search/search_index.json under MkDocs + Material and search.json under Zensical;
// either may be asked for through XMLHttpRequest or fetch. Material starts its worker at once
// and talks to it through addEventListener and postMessage, so until search opens it gets a
// stand-in that keeps its messages; Zensical starts its worker only once the index has come.
(function () {
  var INDEX = /\/search(\/search_index)?\.json(\?|$)/;
  var WORKER = /\/workers\/search\.[^/]*\.js$/;
  var held = [];
  var opened = false;
  function open() {
    if (opened) return;
    opened = true;
    held.splice(0).forEach(function (go) { go(); });
  }
  // Material's search box and toggle; Zensical's search button opens a dialog instead.
  var SEARCH = "input[name=query], #__search, [data-md-component=search] *";
  function isSearch(el) {
    return el && el.matches && el.matches(SEARCH);
  }
  function typing(el) {
    return el && (el.isContentEditable || /^(input|textarea|select)$/i.test(el.tagName));
  }
  if (new URLSearchParams(location.search).has("h")) open();
  ["focusin", "change", "click"].forEach(function (type) {
    document.addEventListener(type, function (e) { if (isSearch(e.target)) open(); }, true);
  });
  // The search shortcuts, wherever the theme sends them.
  document.addEventListener("keydown", function (e) {
    if (/^[/sf]$/i.test(e.key) && !e.ctrlKey && !e.metaKey && !e.altKey &&
        !typing(e.target)) open();
  }, true);

  var xhrOpen = XMLHttpRequest.prototype.open;
  var xhrSend = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    this.__lazyIndex = INDEX.test(new URL(String(url), location.href).pathname);
    return xhrOpen.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    var xhr = this, args = arguments;
    if (!xhr.__lazyIndex || opened) return xhrSend.apply(xhr, args);
    held.push(function () { xhrSend.apply(xhr, args); });
  };

  var fetchIt = window.fetch;
  if (fetchIt) {
    window.fetch = function (input, init) {
      var url = typeof input === "string" || input instanceof URL ? String(input) : input.url;
      if (opened || !INDEX.test(new URL(url, location.href).pathname)) {
        return fetchIt.apply(this, arguments);
      }
      var self = this, args = arguments;
      return new Promise(function (resolve) { held.push(resolve); })
        .then(function () { return fetchIt.apply(self, args); });
    };
  }

  var RealWorker = window.Worker;
  if (RealWorker) {
    window.Worker = function (url, options) {
      if (opened || !WORKER.test(new URL(String(url), location.href).pathname)) {
        return new RealWorker(url, options);
      }
      var standIn = new EventTarget(), real = null, kept = [];
      standIn.postMessage = function () {
        if (real) real.postMessage.apply(real, arguments);
        else kept.push(arguments);
      };
      standIn.terminate = function () {
        if (real) real.terminate();
        kept = null;
      };
      held.push(function () {
        if (!kept) return;  // terminated before search opened
        real = new RealWorker(url, options);
        ["message", "messageerror", "error"].forEach(function (type) {
          real.addEventListener(type, function (e) {
            var copy = type === "error" ? new ErrorEvent(type, e) : new MessageEvent(type, e);
            standIn.dispatchEvent(copy);
            if (typeof standIn["on" + type] === "function") standIn["on" + type](copy);
          });
        });
        kept.splice(0).forEach(function (args) { real.postMessage.apply(real, args); });
      });
      return standIn;
    };
    window.Worker.prototype = RealWorker.prototype;
  }
})();
