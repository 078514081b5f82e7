/* Starts the practice mode on the page that has one (docs/practice.md), and costs the other
   pages nothing else: practice.js and practice.css are fetched the first time a page with
   #practice is shown. Material's document$ emits on the first page and after each instant
   navigation, so this works with navigation.instant as well as on a full load. */
(function () {
  "use strict";

  const here = document.currentScript.src;
  let loaded = null;

  function start() {
    if (!document.getElementById("practice")) return;
    if (!loaded) {
      const css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = new URL("../stylesheets/practice.css", here);
      document.head.append(css);
      loaded = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = new URL("practice.js", here);
        script.onload = resolve;
        script.onerror = reject;
        document.head.append(script);
      });
    }
    loaded.then(() => window.practiceMode.init());
  }

  if (window.document$) window.document$.subscribe(start);
  else document.addEventListener("DOMContentLoaded", start);
})();
