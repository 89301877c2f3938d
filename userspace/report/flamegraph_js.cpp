// The flame graph's behaviour, inlined into every SVG: no network, no
// library. Frames carry their position as fractions (data-x, data-w), their
// depth (data-d) and full name (data-n); zoom re-places them, search marks
// them. Must never contain the CDATA terminator.
#include "report/flamegraph_svg.h"

namespace whoclosed {

const char* const kFlameGraphStyle = R"CSS(
#flamegraph .bg { fill: #f8f8f4; }
#flamegraph text { font-family: monospace; font-size: 12px; fill: #000; }
#flamegraph .title { font-size: 16px; text-anchor: middle; }
#flamegraph .button { cursor: pointer; fill: #1a5fb4; text-decoration: underline; }
#flamegraph #fg-matched { text-anchor: end; }
#flamegraph g.f { cursor: pointer; }
#flamegraph g.f:hover rect { stroke: #000; stroke-width: 0.8; }
#flamegraph g.f.match rect { fill: #e040fb; }
#flamegraph g.f.parent rect { opacity: 0.55; }
)CSS";

const char* const kFlameGraphScript = R"JS(
(function () {
  var svg = document.getElementById('flamegraph');
  var margin = +svg.getAttribute('data-margin');
  var graphWidth = +svg.getAttribute('data-width') - 2 * margin;
  var frames = Array.prototype.slice.call(svg.querySelectorAll('g.f'));
  var details = svg.querySelector('#fg-details');
  var matched = svg.querySelector('#fg-matched');
  var search = svg.querySelector('#fg-search');
  function num(g, key) { return +g.getAttribute('data-' + key); }
  function fit(g, widthPx) {
    var name = g.getAttribute('data-n'), fits = Math.floor((widthPx - 6) / 7);
    g.querySelector('text').textContent =
        fits < 3 ? '' : (name.length <= fits ? name : name.substring(0, fits - 2) + '..');
  }
  function place(g, x, w) {
    var px = margin + x * graphWidth;
    g.querySelector('rect').setAttribute('x', px);
    g.querySelector('rect').setAttribute('width', w * graphWidth);
    g.querySelector('text').setAttribute('x', px + 3);
    fit(g, w * graphWidth);
  }
  function zoom(target) {
    var x0 = num(target, 'x'), w0 = num(target, 'w'), d0 = num(target, 'd'), eps = 1e-9;
    frames.forEach(function (g) {
      var x = num(g, 'x'), w = num(g, 'w'), d = num(g, 'd');
      var ancestor = d < d0 && x <= x0 + eps && x + w >= x0 + w0 - eps;
      var inside = d >= d0 && x >= x0 - eps && x + w <= x0 + w0 + eps;
      g.style.display = ancestor || inside ? '' : 'none';
      g.classList.toggle('parent', ancestor);
      if (ancestor) place(g, 0, 1);
      else if (inside) place(g, (x - x0) / w0, w / w0);
    });
  }
  function unzoom() {
    frames.forEach(function (g) {
      g.style.display = '';
      g.classList.remove('parent');
      place(g, num(g, 'x'), num(g, 'w'));
    });
  }
  function frameOf(e) {
    for (var n = e.target; n && n !== svg; n = n.parentNode)
      if (n.classList && n.classList.contains('f')) return n;
    return null;
  }
  svg.addEventListener('click', function (e) {
    var g = frameOf(e);
    if (g) { if (num(g, 'd') === 0) unzoom(); else zoom(g); }
  });
  svg.querySelector('#fg-unzoom').addEventListener('click', unzoom);
  svg.addEventListener('mouseover', function (e) {
    var g = frameOf(e);
    if (g) details.textContent = g.querySelector('title').textContent;
  });
  svg.addEventListener('mouseout', function () { details.textContent = ' '; });
  function literal(term) { return term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }
  function find(term) {
    var re = null;
    if (term) { try { re = new RegExp(term, 'i'); } catch (err) { re = new RegExp(literal(term), 'i'); } }
    var spans = [];
    frames.forEach(function (g) {
      var hit = re !== null && re.test(g.getAttribute('data-n'));
      g.classList.toggle('match', hit);
      if (hit) spans.push([num(g, 'x'), num(g, 'x') + num(g, 'w')]);
    });
    // The share of closes under a match; nested matches count once.
    spans.sort(function (a, b) { return a[0] - b[0]; });
    var share = 0, end = 0;
    spans.forEach(function (s) {
      var from = Math.max(s[0], end);
      if (s[1] > from) share += s[1] - from;
      end = Math.max(end, s[1]);
    });
    matched.textContent = re ? 'Matched: ' + (100 * share).toFixed(1) + '%' : '';
  }
  if (search) search.addEventListener('input', function () { find(search.value); });
})();
)JS";

}  // namespace whoclosed
