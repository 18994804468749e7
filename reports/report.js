// The transcripts table of a policyspec report: filters, a virtual list (only the rows in
// view are in the document) and a detail panel with the transcript, each finding's path
// highlighted. Everything from the data is shown through textContent, never as markup.
(function () {
  "use strict";
  var started = performance.now();
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var S = data.strings;
  var ROWS = data.rows;
  // A row: [id, passed, source, line, format, policy, confession, decision, required,
  // answer kind, category, findings (6 string indexes each), rules, transcript, prompt, change]
  var ID = 0, PASS = 1, SRC = 2, LINE = 3, SCORES = 4, DEC = 7, REQ = 8, KIND = 9, CAT = 10;
  var FIND = 11, RULES = 12, TRANSCRIPT = 13, PROMPT = 14, CHANGE = 15, FIELDS = 6;
  var ROW_HEIGHT = 28, OVERSCAN = 6;

  var lookup = new Map();
  S.forEach(function (text, index) { lookup.set(text, index); });
  var str = function (index) { return index < 0 ? null : S[index]; };
  var $ = function (id) { return document.getElementById(id); };

  var scroller = $("scroller"), spacer = $("spacer"), rowsBox = $("rows"), detail = $("detail");
  var count = $("f-count");
  var filters = ["f-verdict", "f-code", "f-rule", "f-category", "f-change", "f-text"]
    .map($).filter(Boolean);
  var visible = new Int32Array(0);
  var chosen = -1;
  var showing = 0;
  var searchable = null;
  var transcripts = null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function codesOf(row) {
    var seen = [], flat = row[FIND];
    for (var k = 0; k < flat.length; k += FIELDS) {
      var code = S[flat[k]];
      if (seen.indexOf(code) < 0) seen.push(code);
    }
    return seen;
  }

  function searchText(index) {
    if (searchable === null) searchable = new Array(ROWS.length);
    var text = searchable[index];
    if (text === undefined) {
      var row = ROWS[index], parts = [row[ID] || "", str(row[SRC]) || "", row[PROMPT]];
      var flat = row[FIND];
      for (var k = 0; k < flat.length; k += FIELDS) parts.push(S[flat[k]], S[flat[k + 2]]);
      text = searchable[index] = parts.join("\n").toLowerCase();
    }
    return text;
  }

  function wanted(id) {
    var node = $(id);
    if (!node || !node.value) return null;
    return node.value;
  }

  function applyFilters() {
    var verdict = wanted("f-verdict"), code = wanted("f-code"), rule = wanted("f-rule");
    var category = wanted("f-category"), change = wanted("f-change");
    var text = ($("f-text").value || "").trim().toLowerCase();
    var codeIndex = code === null ? -1 : (lookup.has(code) ? lookup.get(code) : -2);
    var ruleIndex = rule === null ? -1 : (lookup.has(rule) ? lookup.get(rule) : -2);
    var categoryIndex = category === null ? null
      : (category === "(none)" ? -1 : (lookup.has(category) ? lookup.get(category) : -2));
    var changeIndex = change === null ? -1 : (lookup.has(change) ? lookup.get(change) : -2);
    var out = new Int32Array(ROWS.length), n = 0;
    for (var i = 0; i < ROWS.length; i++) {
      var row = ROWS[i];
      if (verdict !== null && (row[PASS] === 1) !== (verdict === "pass")) continue;
      if (codeIndex !== -1) {
        var flat = row[FIND], found = false;
        for (var k = 0; k < flat.length; k += FIELDS) if (flat[k] === codeIndex) { found = true; break; }
        if (!found) continue;
      }
      if (ruleIndex !== -1 && row[RULES].indexOf(ruleIndex) < 0) continue;
      if (categoryIndex !== null && row[CAT] !== categoryIndex) continue;
      if (changeIndex !== -1 && row[CHANGE] !== changeIndex) continue;
      if (text && searchText(i).indexOf(text) < 0) continue;
      out[n++] = i;
    }
    visible = out.subarray(0, n);
    count.textContent = n === ROWS.length ? n + " transcripts" : n + " of " + ROWS.length + " transcripts";
    spacer.style.height = n * ROW_HEIGHT + "px";
    scroller.scrollTop = 0;
    draw();
  }

  function score(value) { return value === null ? "–" : value.toFixed(2); }

  function rowElement(index, position) {
    var row = ROWS[index];
    var node = el("div", "row" + (data.baseline ? " with-change" : "") + (index === chosen ? " chosen" : ""));
    node.dataset.index = index;
    node.style.top = position * ROW_HEIGHT + "px";
    node.appendChild(el("span", "id", row[ID] === null ? "(no id) " + str(row[SRC]) + ":" + row[LINE] : row[ID]));
    var verdict = el("span");
    verdict.appendChild(el("span", "badge " + (row[PASS] ? "pass" : "fail"), row[PASS] ? "pass" : "fail"));
    node.appendChild(verdict);
    node.appendChild(el("span", "", score(row[SCORES]) + " · " + score(row[SCORES + 1]) + " · " + score(row[SCORES + 2])));
    node.appendChild(el("span", "", (str(row[DEC]) || "–") + " / " + (str(row[REQ]) || "–")));
    node.appendChild(el("span", "", str(row[CAT]) || "(none)"));
    node.appendChild(el("span", "code", codesOf(row).join(" ")));
    node.appendChild(el("span", "", row[PROMPT]));
    if (data.baseline) {
      var change = str(row[CHANGE]) || "";
      node.appendChild(el("span", "change-" + change, change));
    }
    return node;
  }

  function draw() {
    var top = scroller.scrollTop, height = scroller.clientHeight || 600;
    var first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    var last = Math.min(visible.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    var fragment = document.createDocumentFragment();
    for (var k = first; k < last; k++) fragment.appendChild(rowElement(visible[k], k));
    rowsBox.replaceChildren(fragment);
  }

  var pending = false;
  scroller.addEventListener("scroll", function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; draw(); });
  });
  rowsBox.addEventListener("click", function (event) {
    var node = event.target.closest(".row");
    if (node) location.hash = "row=" + node.dataset.index;
  });
  filters.forEach(function (node) {
    node.addEventListener(node.tagName === "INPUT" ? "input" : "change", applyFilters);
  });

  // The transcripts are gzipped in base64 (reports/html.py): unpacked once, when the
  // first one is shown.
  function unpack() {
    if (transcripts === null) {
      var text = $("report-transcripts").textContent.trim();
      var binary = atob(text), bytes = new Uint8Array(binary.length);
      for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
      var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
      transcripts = new Response(stream).text().then(function (all) { return all.split("\n"); });
    }
    return transcripts;
  }

  function transcript(index) {
    return unpack().then(function (lines) {
      try { return JSON.parse(lines[index]); } catch (error) { return undefined; }
    });
  }

  function keyPath(key) {
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? "." + key : "[" + JSON.stringify(key) + "]";
  }

  function tree(value, path, key, nodes) {
    var node = el("div", "node");
    node.dataset.path = path;
    nodes.set(path, node);
    if (key !== null) node.appendChild(el("span", "key", key + ": "));
    if (Array.isArray(value)) {
      node.appendChild(el("span", "null", "[" + (value.length ? "" : "]")));
      value.forEach(function (item, i) { node.appendChild(tree(item, path + "[" + i + "]", String(i), nodes)); });
      if (value.length) node.appendChild(el("span", "null", "]"));
    } else if (value !== null && typeof value === "object") {
      Object.keys(value).forEach(function (name) {
        node.appendChild(tree(value[name], path + keyPath(name), name, nodes));
      });
    } else {
      node.appendChild(el("span", value === null ? "null" : typeof value, value === null ? "null" : value));
    }
    return node;
  }

  function nearest(nodes, path) {
    while (path) {
      if (nodes.has(path)) return nodes.get(path);
      var shorter = path.replace(/(\.[^.[\]]+|\[[^\]]*\])$/, "");
      if (shorter === path) break;
      path = shorter;
    }
    return nodes.get("$") || null;
  }

  function show(index, path) {
    var row = ROWS[index];
    if (!row) return Promise.resolve();
    chosen = index;
    draw();
    detail.replaceChildren();
    detail.appendChild(el("h3", "", row[ID] === null ? "(no id)" : row[ID]));
    var facts = el("dl");
    var add = function (name, value) { facts.appendChild(el("dt", "", name)); facts.appendChild(el("dd", "", value)); };
    add("verdict", row[PASS] ? "pass" : "fail");
    add("where", str(row[SRC]) + ":" + row[LINE]);
    add("scores", "format " + score(row[SCORES]) + ", policy " + score(row[SCORES + 1]) + ", confession " + score(row[SCORES + 2]));
    add("decision", (str(row[DEC]) || "–") + " (required: " + (str(row[REQ]) || "–") + ")");
    add("answer kind", str(row[KIND]) || "–");
    add("category", str(row[CAT]) || "(none)");
    add("rules", row[RULES].map(str).join(", ") || "–");
    if (data.baseline) add("change", str(row[CHANGE]) || "–");
    detail.appendChild(facts);
    var list = el("ol", "findings"), flat = row[FIND], marks = [];
    for (var k = 0; k < flat.length; k += FIELDS) {
      var item = el("li"), findingPath = str(flat[k + 3]);
      item.appendChild(el("span", "sev " + S[flat[k + 1]], S[flat[k + 1]] + " "));
      item.appendChild(el("b", "code", S[flat[k]] + " "));
      item.appendChild(el("span", "", S[flat[k + 2]]));
      if (str(flat[k + 4])) item.appendChild(el("span", "note", " (" + str(flat[k + 4]) + ")"));
      if (findingPath) {
        item.appendChild(document.createElement("br"));
        var link = el("a", "code path", findingPath);
        link.href = "#row=" + index + "&path=" + encodeURIComponent(findingPath);
        item.appendChild(link);
        marks.push([findingPath, S[flat[k]]]);
      }
      if (str(flat[k + 5])) item.appendChild(el("div", "hint", "help: " + str(flat[k + 5])));
      list.appendChild(item);
    }
    if (flat.length) detail.appendChild(list);
    else detail.appendChild(el("p", "note", "no findings"));
    if (row[TRANSCRIPT] < 0) {
      detail.appendChild(el("p", "note", "the transcript is not in this report (give it with --transcripts)"));
      return Promise.resolve();
    }
    var token = ++showing;
    return transcript(row[TRANSCRIPT]).then(function (value) {
      if (token !== showing) return;  // shown again, or another chosen, meanwhile
      var nodes = new Map(), box = el("div", "tree");
      box.appendChild(tree(value, "$", null, nodes));
      marks.forEach(function (mark) {
        var node = nearest(nodes, mark[0]);
        if (node) {
          node.classList.add("flagged");
          node.insertBefore(el("span", "mark", mark[1]), node.children[1] || null);
        }
      });
      detail.appendChild(box);
      if (path) {
        var hit = nearest(nodes, path);
        if (hit) {
          hit.classList.add("hit");
          hit.scrollIntoView({ block: "center" });
        }
      }
    });
  }

  function route() {
    var params = new URLSearchParams(location.hash.slice(1));
    if (params.has("code")) {
      $("f-code").value = params.get("code");
      applyFilters();
      $("transcripts").scrollIntoView();
    }
    if (params.has("row")) show(Number(params.get("row")), params.get("path"));
  }
  window.addEventListener("hashchange", route);

  applyFilters();
  route();
  window.__report = { rows: ROWS.length, visible: function () { return visible.length; }, show: show };
  window.__reportReady = performance.now();
  window.__reportScriptMs = window.__reportReady - started;
  document.documentElement.dataset.ready = "1";
})();
