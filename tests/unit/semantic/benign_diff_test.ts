import assert from "node:assert/strict";
import {
  benignFeatures,
  benignMismatch,
  benignVerdict,
  stemOf,
  synonymous,
} from "../../../src/semantic/benign_diff.ts";
import { gateFeatures, gateMismatch } from "../../../src/semantic/lexical_gates.ts";

const check = (a: string, b: string) => benignMismatch(benignFeatures(a), benignFeatures(b));
/** The whole decision after the similarity test: exact-match gates, then the benign check. */
const gates = (a: string, b: string) => gateMismatch(gateFeatures(a), gateFeatures(b));

Deno.test("benign check: the issue's one-word changes are misses", () => {
  const pairs: [string, string][] = [
    [
      "We have a Node service behind nginx; set the request timeout to 30 seconds and add retries.",
      "We have a Node service behind nginx; set the request timeout to 30 minutes and add retries.",
    ],
    ["how do I reverse a list in place in python", "how do I reverse a list in place in rust"],
    [
      "write a function that reads the preferences file",
      "write a function that writes the preferences file",
    ],
    [
      "use a left join between orders and customers",
      "use an inner join between orders and customers",
    ],
    ["bake at 200 degrees celsius", "bake at 200 degrees fahrenheit"],
    ["serialize the order to JSON", "deserialize the order to JSON"],
    ["commits that changed more than 500 lines", "commits that changed fewer than 500 lines"],
    ["the array is sorted, find 42", "the array is unsorted, find 42"],
  ];
  for (const [a, b] of pairs) {
    assert.notEqual(check(a, b), null, `${a} / ${b}`);
    assert.notEqual(check(b, a), null, `${b} / ${a}`);
    assert.notEqual(gates(a, b), null, `${a} / ${b}`);
  }
  assert.equal(check("30 seconds", "30 minutes"), "word");
  assert.equal(check("in python", "in rust"), "word");
});

Deno.test("benign check: co-hyponyms, antonyms and unknown words never pair", () => {
  assert.equal(synonymous("seconds", "minutes"), false);
  assert.equal(synonymous("stack", "heap"), false);
  assert.equal(synonymous("python", "rust"), false);
  assert.equal(synonymous("copy", "move"), false);
  assert.equal(synonymous("thread", "process"), false);
  assert.equal(synonymous("good", "bad"), false);
  assert.equal(synonymous("more", "fewer"), false);
  assert.equal(synonymous("kubernetesy", "kubernetes"), false);
  // Real synonyms of one synset do.
  assert.equal(synonymous("fix", "repair"), true);
  assert.equal(synonymous("big", "large"), true);
  assert.equal(synonymous("fixed", "repaired"), true);
  assert.equal(synonymous("quickly", "rapidly"), true);
});

Deno.test("benign check: direction, plural, negation, modality and inserted words are misses", () => {
  assert.equal(
    check("copy files from the server to my laptop", "copy files from my laptop to the server"),
    "order",
  );
  assert.equal(check("convert celsius to fahrenheit", "convert fahrenheit to celsius"), "order");
  assert.equal(
    check("delete the user from the database", "delete the users from the database"),
    "plural",
  );
  assert.equal(check("why does the build fail", "why does the build not fail"), "word");
  assert.equal(check("should I use a mutex here", "can I use a mutex here"), "word");
  assert.equal(check("is this code thread safe", "is this code thread unsafe"), "word");
  assert.equal(
    check("what is the secret to success", "what is the secret to Secret's success"),
    "order",
  );
});

Deno.test("benign check: paraphrases hit", () => {
  const pairs: [string, string][] = [
    [
      "how do I reverse a list in python",
      "Could you please tell me how to reverse a list in Python? Thanks!",
    ],
    ["I'm working on a project and I need to parse a CSV file in Go.", "Parse a CSV file in Go."],
    ["What's a monad?", "What is a monad?"],
    ["Why doesn't my React component re-render?", "why does not my react component re-render"],
    ["how can I merge two objects in javascript", "How do I merge two objects in JavaScript?"],
    [
      "What is the best way to sort a dictionary by value in Python?",
      "how to sort a dictionary by value in python",
    ],
    ["Which is the best way to learn Rust?", "What is the best way to learn Rust?"],
    ["how do I fix this bug in my loop", "how do I repair this bug in my loop"],
    [
      "how to build a big binary search tree quickly",
      "how to build a large binary search tree rapidly",
    ],
    ["how is the list sorted in this code", "how is the list sorting in this code"],
    ["What is e-commerce?", "What is ecommerce?"],
    [
      "Hi! Can you write a bash script that deletes log files? Thank you so much.",
      "Write a bash script that deletes log files.",
    ],
  ];
  for (const [a, b] of pairs) {
    const v = benignVerdict(benignFeatures(a), benignFeatures(b), true);
    assert.equal(v.reason, null, `${a} / ${b}: ${v.notes.join("; ")}`);
    assert.equal(gates(a, b), null, `${a} / ${b}`);
  }
});

Deno.test("benign check: explain names the differing words and the rules", () => {
  const v = benignVerdict(
    benignFeatures("how do I fix the bug in python"),
    benignFeatures("how do I repair the bug in rust"),
    true,
  );
  assert.equal(v.reason, "word");
  assert.deepEqual(v.onlyA, ["fix", "python"]);
  assert.deepEqual(v.onlyB, ["repair", "rust"]);
  assert.ok(v.notes.includes("fix = repair: one WordNet synset"));
  assert.ok(v.notes.includes("python: pairs with nothing in the other text"));
});

Deno.test("benign check: the stemmer folds inflections, not derivations", () => {
  assert.equal(stemOf("running"), stemOf("run"));
  assert.equal(check("help with writing a test", "help writing a test"), "word");
  assert.equal(check("the tests passed locally", "the tests pass locally"), null);
  assert.equal(check("serialize the order", "serialization the order"), "word");
});

Deno.test("benign check: differences on no list are misses (gates and check together)", () => {
  const pairs: [string, string][] = [
    ["how do I center a div horizontally", "how do I center a div vertically"],
    ["use tabs for indentation", "use spaces for indentation"],
    ["print the keys of the dict", "print the values of the dict"],
    ["how many bytes is an int", "how many bits is an int"],
    ["is zero even", "is zero odd"],
    ["disable the cache in dev", "disable the cache in prod"],
    ["sort by name then by age", "sort by age then by name"],
    ["add the user to the admin group", "add the admin to the user group"],
    ["what is the latest version of node", "what is the oldest version of node"],
    ["why did the build fail", "why does the build fail"],
    ["how do I install node on my laptop", "how do I install node on your laptop"],
    ["explain recursion to a child", "explain recursion"],
  ];
  for (const [a, b] of pairs) assert.notEqual(gates(a, b), null, `${a} / ${b}`);
});
