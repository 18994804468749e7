// Search over the spec's rules, categories and styles. The index is JSON in a
// non-executed script element; results are built with textContent, never as HTML.
(function () {
  "use strict";
  var index = JSON.parse(document.getElementById("search-index").textContent);
  var input = document.getElementById("query");
  var list = document.getElementById("results");
  var MAX_RESULTS = 50;

  function matches(entry, words) {
    var haystack = (entry.id + " " + entry.title + " " + entry.text).toLowerCase();
    return words.every(function (word) { return haystack.indexOf(word) >= 0; });
  }

  function show(query) {
    var words = query.toLowerCase().split(/\s+/).filter(Boolean);
    list.textContent = "";
    if (!words.length) return 0;
    var found = index.filter(function (entry) { return matches(entry, words); });
    found.slice(0, MAX_RESULTS).forEach(function (entry) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = entry.url;
      link.textContent = entry.id;
      var kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = entry.kind;
      item.appendChild(kind);
      item.appendChild(link);
      item.appendChild(document.createTextNode(" " + entry.title));
      list.appendChild(item);
    });
    return found.length;
  }

  input.addEventListener("input", function () { show(input.value); });
  window.__siteSearch = show;
})();
