// Parses every diagram of a JSON array on stdin with mermaid's own parser
// (in jsdom, since mermaid expects a browser); prints one line per diagram
// that does not parse and exits 1 if any, else prints "ok N".
import { JSDOM } from 'jsdom';
import { readFileSync } from 'node:fs';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');

const diagrams = JSON.parse(readFileSync(0, 'utf8'));
let bad = 0;
for (const [name, text] of diagrams) {
  try {
    await mermaid.parse(text);
  } catch (error) {
    bad += 1;
    console.log(`${name}: ${String(error.message).split('\n').join(' ')}`);
  }
}
if (bad > 0) process.exit(1);
console.log(`ok ${diagrams.length}`);
