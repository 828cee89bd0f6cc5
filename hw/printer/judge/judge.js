// judge.js reads an ESC/POS job with a third-party parser, npos, and prints
// what it found as JSON: every command (its name, function and bytes), and
// the text between commands decoded with iconv-lite in the given encoding.
// hw/printer's tests compare that with what Guichet meant to send.
//
//   node judge.js JOB.bin ENCODING
//
// npos's command table lacks two commands Guichet sends: GS ( k (the QR
// code functions, a 2-byte length then the data, as GS ( K which it has)
// and ESC GS t n (Star's code page command). They are added here; nothing
// else of npos is changed.
'use strict';

const fs = require('fs');
const iconv = require('iconv-lite');
const npos = require('npos');

const [file, encoding] = process.argv.slice(2);
if (!file || !encoding || !iconv.encodingExists(encoding)) {
  console.error('usage: node judge.js JOB.bin ENCODING (win1252, cp858, cp850, cp437)');
  process.exit(2);
}

const rules = JSON.parse(JSON.stringify(npos.rules));
rules[npos.symbols.GS]['(k'] = [0, 'd16'];
rules[npos.symbols.ESC]['\x1dt'] = 1;

const raw = fs.readFileSync(file);
const ast = npos.parser(rules).analyze(raw);
const out = {error: ast.error ? ast.error.message : null, commands: [], lines: []};
let line = '';
for (const node of ast.tree || []) {
  const bytes = raw.slice(node.offset, node.offset + node.length);
  if (node.ascii === 'STX') {
    for (const ch of iconv.decode(bytes, encoding)) {
      if (ch === '\n') {
        out.lines.push(line);
        line = '';
      } else {
        line += ch;
      }
    }
    continue;
  }
  out.commands.push({name: node.ascii + (node.fn ? ' ' + node.fn : ''), bytes: Array.from(bytes)});
}
if (line !== '') {
  out.lines.push(line);
}
process.stdout.write(JSON.stringify(out));
