// squrl viewer request (CloudFront Functions, cloudfront-js-2.0), on the default behaviour.
// Reduces Accept to the one header the cache key holds, x-squrl-format: html | json, so that
// CloudFront keeps at most two variants of a path and serves each client the 404/410 format it
// asked for. "html" exactly when shared/redirect/answer.py prefers_html(Accept) is true: the q of the
// most specific range matching text/html beats the one matching application/json.
// tests/unit/test_edge_format.py runs this file against prefers_html. Any x-squrl-format the
// viewer sent is overwritten.
var FORMAT_HEADER = 'x-squrl-format';

// Python's float(): decimals, exponents, '_' between digits, inf/infinity/nan; anything else 0.
function parseQ(value) {
  var v = value.trim().toLowerCase();
  if (/^[+-]?(inf|infinity)$/.test(v)) return v.charAt(0) === '-' ? -Infinity : Infinity;
  if (/^[+-]?nan$/.test(v)) return NaN;
  if (!/^[+-]?(\d(_?\d)*(\.(\d(_?\d)*)?)?|\.\d(_?\d)*)(e[+-]?\d(_?\d)*)?$/.test(v)) return 0;
  return Number(v.replace(/_/g, ''));
}

function quality(accept, main, sub) {
  var bestSpecificity = -1;
  var bestQ = 0;
  var parts = accept.split(',');
  for (var i = 0; i < parts.length; i++) {
    var params = parts[i].trim().split(';');
    var media = params[0].trim().toLowerCase();
    var slash = media.indexOf('/');
    var rangeMain = slash < 0 ? media : media.slice(0, slash);
    var rangeSub = slash < 0 ? '' : media.slice(slash + 1);
    var specificity;
    if (rangeMain === main && rangeSub === sub) specificity = 2;
    else if (rangeMain === main && rangeSub === '*') specificity = 1;
    else if (rangeMain === '*' && rangeSub === '*') specificity = 0;
    else continue;
    var q = 1;
    for (var j = 1; j < params.length; j++) {
      var param = params[j].trim();
      var eq = param.indexOf('=');
      var key = eq < 0 ? param : param.slice(0, eq);
      if (key.trim().toLowerCase() === 'q') q = eq < 0 ? 0 : parseQ(param.slice(eq + 1));
    }
    if (specificity > bestSpecificity) {
      bestSpecificity = specificity;
      bestQ = q;
    }
  }
  return bestQ;
}

function prefersHtml(accept) {
  if (!accept) return false;
  return quality(accept, 'text', 'html') > quality(accept, 'application', 'json');
}

function handler(event) {
  var request = event.request;
  var accept = request.headers.accept;
  request.headers[FORMAT_HEADER] = { value: prefersHtml(accept && accept.value) ? 'html' : 'json' };
  return request;
}
