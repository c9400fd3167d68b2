import assert from "node:assert/strict";
import { canonicalJson } from "../../../src/cache/canonical_json.ts";

Deno.test("canonicalJson: keys sorted by UTF-16 code units, at every depth", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } }),
    '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
  );
  // Upper case sorts before lower case; "10" before "9" (code units, not numbers).
  assert.equal(canonicalJson({ b: 0, B: 0, "9": 0, "10": 0 }), '{"10":0,"9":0,"B":0,"b":0}');
  // Code-unit order: U+20AC (euro) sorts before a surrogate pair (U+1F600).
  assert.equal(canonicalJson({ "\u{1F600}": 1, "\u20AC": 2 }), '{"\u20AC":2,"\u{1F600}":1}');
});

Deno.test("canonicalJson: numbers in shortest round-trip form (RFC 8785 / ECMAScript)", () => {
  assert.equal(
    canonicalJson([1.0, -0, 1e21, 1e-7, 0.1 + 0.2, 100, 2.5e-3]),
    "[1,0,1e+21,1e-7,0.30000000000000004,100,0.0025]",
  );
  assert.throws(() => canonicalJson([NaN]), /not JSON/);
  assert.throws(() => canonicalJson({ a: Infinity }), /not JSON/);
});

Deno.test("canonicalJson: no whitespace, JSON string escapes, undefined members dropped", () => {
  assert.equal(
    canonicalJson({ s: 'a"b\\c\n\u0001é', u: undefined, l: [undefined] }),
    '{"l":[null],"s":"a\\"b\\\\c\\n\\u0001é"}',
  );
  assert.equal(canonicalJson(JSON.parse('{ "x" : [ 1 , 2 ] }')), '{"x":[1,2]}');
});
