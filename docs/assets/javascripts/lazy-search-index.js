// Fetch the search index when the reader first opens search, not on every page load.
//
// The theme requests the index as soon as a page loads over http(s), and the index covers the
// whole site, so every page would carry it in its weight. This holds that one request back
// until search is opened: focus in the search box (click, or the "/" "s" "f" shortcuts) or the
// search toggle. Then it is sent unchanged, and the theme shows "Initializing search" for the
// moment it takes. A page opened from a search result (?h=term) needs the index to highlight
// the term, so there it goes at once.
//
// The theme override (docs/overrides/main.html) loads this before the theme's bundle. The
// index is search/search_index.json under MkDocs + Material and search.json under Zensical;
// either may be asked for through XMLHttpRequest or fetch.
(function () {
  var INDEX = /\/search(\/search_index)?\.json(\?|$)/;
  var held = [];
  var opened = false;
  function open() {
    if (opened) return;
    opened = true;
    held.splice(0).forEach(function (go) { go(); });
  }
  function isSearch(el) {
    return el && el.matches && el.matches("input[name=query], #__search");
  }
  if (new URLSearchParams(location.search).has("h")) open();
  document.addEventListener("focusin", function (e) { if (isSearch(e.target)) open(); }, true);
  document.addEventListener("change", function (e) { if (isSearch(e.target)) open(); }, true);

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
})();
