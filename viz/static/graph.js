/* Prospect Graph: draws the network of a page from its JSON data block.
 * No inline scripts (the pages' Content-Security-Policy forbids them); every name is set as
 * text (textContent), never as HTML. Positions come from the server, physics stays off, so a
 * picture of 500 nodes is drawn at once. The container gets data-ready="1", data-node-count and
 * data-render-ms once the first frame is drawn (tests and benchmarks wait on these).
 */
(function () {
  "use strict";
  var started = performance.now();
  var block = document.getElementById("graph-data");
  var container = document.getElementById("network");
  if (!block || !container || typeof vis === "undefined") { return; }
  var data = JSON.parse(block.textContent);
  var nodes = new vis.DataSet(data.nodes);
  var edges = new vis.DataSet(data.edges);
  var network = new vis.Network(container, { nodes: nodes, edges: edges }, data.options);
  window.__network = network;

  // Folded groups: each "+N" node and the members it carries become one cluster node that
  // opens on click (members return to the places the server gave them).
  var folds = data.folds || {};
  Object.keys(folds).forEach(function (moreId) {
    var fold = folds[moreId];
    var more = nodes.get(moreId);
    if (!more) { return; }
    network.cluster({
      joinCondition: function (n) { return n.cluster === moreId || n.id === moreId; },
      clusterNodeProperties: {
        id: "cluster:" + moreId, label: fold.label, title: fold.title, shape: more.shape || "box",
        color: more.color, font: more.font, x: more.x, y: more.y, borderWidth: 2,
        shapeProperties: { borderDashes: [4, 3] }
      }
    });
    // the cluster's own position is the "+N" node's (cluster() would put it at the members' mean)
    network.moveNode("cluster:" + moreId, more.x, more.y);
  });
  // a big neighbourhood opens framed on its centre and first ring (their names readable at once)
  if (data.firstView && data.firstView.length) {
    network.fit({ nodes: data.firstView, animation: false });
  }
  function openFold(clusterId) {
    var moreId = clusterId.substring("cluster:".length);
    network.openCluster(clusterId, { releaseFunction: function (_c, positions) { return positions; } });
    var fold = folds[moreId];
    if (fold.rest) { nodes.update({ id: moreId, label: fold.rest }); }
    else { nodes.update({ id: moreId, hidden: true }); }
    container.dataset.opened = String(Number(container.dataset.opened || "0") + 1);
  }
  window.__openFold = openFold;
  container.dataset.nodeCount = String(nodes.get({ filter: function (n) { return !n.cluster; } }).length);
  container.dataset.edgeCount = String(edges.length);

  network.once("afterDrawing", function () {
    container.dataset.renderMs = String(Math.round(performance.now() - started));
    container.dataset.ready = "1";
    window.__graphReady = true;
  });

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }

  function showDetails(id) {
    var panel = document.getElementById("details");
    var d = data.details[id];
    if (!panel || !d) { return; }
    while (panel.firstChild) { panel.removeChild(panel.firstChild); }
    panel.appendChild(el("h2", data.labels.details));
    var name = el("p", d.name, "detail-name");
    name.id = "detail-name";
    panel.appendChild(name);
    panel.appendChild(el("p", d.status ? d.kind + " · " + d.status : d.kind, "detail-kind"));
    var facts = el("dl", undefined, "facts");
    d.facts.forEach(function (pair) {
      facts.appendChild(el("dt", pair[0]));
      facts.appendChild(el("dd", pair[1]));
    });
    panel.appendChild(facts);
    if (d.explanation && d.explanation.length) {
      panel.appendChild(el("h3", data.labels.reasons));
      var list = el("ul", undefined, "explanation");
      d.explanation.forEach(function (line) { list.appendChild(el("li", line)); });
      panel.appendChild(list);
    }
    if (d.link) {
      var a = el("a", data.labels.open, "open-picture");
      // Only same-site paths: a link is built by the server, never from a name.
      if (d.link.charAt(0) === "/" && d.link.charAt(1) !== "/") { a.href = d.link; }
      panel.appendChild(a);
    }
  }

  network.on("click", function (params) {
    if (!params.nodes || !params.nodes.length) { return; }
    var id = params.nodes[0];
    if (network.isCluster(id)) { openFold(id); return; }
    showDetails(id);
  });
  network.on("doubleClick", function (params) {
    if (params.nodes && params.nodes.length) {
      var d = data.details[params.nodes[0]];
      if (d && d.link && d.link.charAt(0) === "/" && d.link.charAt(1) !== "/") { window.location.assign(d.link); }
    }
  });
})();
