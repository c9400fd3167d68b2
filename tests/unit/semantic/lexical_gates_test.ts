import assert from "node:assert/strict";
import { gateFeatures, gateMismatch } from "../../../src/semantic/lexical_gates.ts";

const gate = (a: string, b: string) => gateMismatch(gateFeatures(a), gateFeatures(b));

Deno.test("gates: numbers must agree", () => {
  assert.equal(
    gate("Which process listens on port 8080?", "which process listens on port 8081"),
    "numbers",
  );
  assert.equal(gate("What is 2+2?", "What is 2+3?"), "numbers");
  assert.equal(gate("Python 3.11 features", "Python 3.12 features"), "numbers");
  assert.equal(gate("laptops under 30,000", "laptops under 30000"), null);
  assert.equal(gate("port 8080", "Port 8080!"), null);
});

Deno.test("gates: negations must agree in number", () => {
  assert.equal(gate("Why does my build work?", "Why doesn't my build work?"), "negations");
  assert.equal(gate("coffee with sugar", "coffee without sugar"), "negations");
  assert.equal(gate("Is it never safe?", "Is it safe?"), "negations");
  assert.equal(gate("Why can't I log in?", "why cannot i log in"), null);
  assert.equal(gate("Why isn't it working?", "why is it not working"), null);
});

Deno.test("gates: no opposite sides of one axis", () => {
  assert.equal(gate("How do I turn on dark mode?", "How do I turn off dark mode?"), "opposites");
  assert.equal(gate("How do I enable dark mode?", "How do I turn off dark mode?"), "opposites");
  assert.equal(gate("How to increase the heap size", "How to decrease the heap size"), "opposites");
  assert.equal(gate("Where can I buy used books?", "Where can I sell used books?"), "opposites");
  assert.equal(gate("How do I log in?", "How do I log out?"), "opposites");
  assert.equal(gate("Add a column to the table", "Remove a column from the table"), "opposites");
  // The same side: no conflict there, but "turn off" is not one WordNet synset with "disable":
  // the benign-difference check, last, makes it a miss.
  assert.equal(
    gate("turn off notifications on Android", "disable notifications on Android"),
    "word",
  );
  // Sides must match exactly: "sell" is not "sell or buy" (a miss is the safe answer).
  assert.equal(
    gate("Where can I sell used books?", "Where can I sell or buy used books?"),
    "opposites",
  );
  assert.equal(gate("What is on the menu?", "What's on the menu?"), null);
});

Deno.test("gates: identifiers, quoted strings, paths, URLs and names must be mentioned by both", () => {
  assert.equal(
    gate("What does `parseConfig` return?", "What does `parseToml` return?"),
    "mentions",
  );
  assert.equal(gate("What does parseConfig() do?", "What does loadConfig() do?"), "mentions");
  assert.equal(gate("explain my_var in the code", "explain my_val in the code"), "mentions");
  assert.equal(gate('Why does it print "hello"?', 'Why does it print "bye"?'), "mentions");
  assert.equal(gate("Open ./src/app.ts", "Open ./src/server.ts"), "mentions");
  assert.equal(gate("Fetch https://a.example/x", "Fetch https://b.example/x"), "mentions");
  assert.equal(gate("edit config.json", "edit config.yaml"), "mentions");
  assert.equal(gate("Best hotels in Paris?", "Best hotels in Rome?"), "mentions");
  assert.equal(
    gate("Is the US heading into recession?", "Are we heading into recession?"),
    "mentions",
  );
  assert.equal(
    gate("What does the --force flag do?", "What does the --dry-run flag do?"),
    "mentions",
  );
  // Case and spelling of the same mention, or a name at the start of a sentence, agree.
  assert.equal(gate("How do I learn JavaScript?", "how do i learn javascript"), null);
  // Agreeing mentions leave the other words to the benign-difference check.
  assert.equal(gate("Paris hotels, best ones?", "best hotels in paris"), "word");
  assert.equal(gate("Is white genocide real?", 'Is ""white genocide"" real?'), null);
  assert.equal(gate("What is e-commerce?", "What is ecommerce?"), null);
});

Deno.test("gates: features are plain data (stored with entries)", () => {
  const f = gateFeatures("Why does port 8080 not open in `server.ts`?");
  assert.deepEqual(f.numbers, ["8080"]);
  assert.equal(f.negations, 1);
  assert.deepEqual(f.mentions, ["server.ts"]);
  assert.deepEqual(JSON.parse(JSON.stringify(f)), f);
});

Deno.test("gates: operators, signs, trailing particles, direction and accept/refuse (review cases)", () => {
  const miss = (a: string, b: string) => {
    const why = gateMismatch(gateFeatures(a), gateFeatures(b));
    assert.notEqual(why, null, `${a} / ${b}`);
    assert.notEqual(gateMismatch(gateFeatures(b), gateFeatures(a)), null, `${b} / ${a}`);
  };
  miss("what is 10 + 3", "what is 10 - 3");
  miss("Is 7 > 5?", "Is 7 < 5?");
  miss("what is 12 * 4", "what is 12 / 4");
  miss("what is -5 + 3", "what is 5 + 3");
  miss("how can I turn the keyboard backlight on", "how can I turn the keyboard backlight off");
  miss("switch maintenance mode on", "switch maintenance mode off");
  miss(
    "write a script that copies every file from the data folder to the backup folder",
    "write a script that copies every file from the backup folder to the data folder",
  );
  miss("convert a JSON string into a Python dict", "convert a Python dict into a JSON string");
  miss("how do I pass state from parent to child", "how do I pass state from child to parent");
  miss(
    "make my postgres database refuse remote connections",
    "make my postgres database accept remote connections",
  );
  // Still a match: the same question in the same order.
  assert.equal(
    gateMismatch(
      gateFeatures("How do I reset my password?"),
      gateFeatures("how do I reset my password"),
    ),
    null,
  );
  assert.equal(
    gateMismatch(
      gateFeatures("copy files from the data folder to the backup folder"),
      gateFeatures("copy the files from the data folder to the backup folder"),
    ),
    null,
  );
});
