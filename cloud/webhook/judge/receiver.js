// A webhook receiver built on the Standard Webhooks reference library
// (npm "standardwebhooks"): it answers 204 to a request whose signature the
// library accepts, 400 otherwise, and prints one JSON line per request
// ({"ok": true, "id": …} or {"ok": false, "error": …}). It listens on the
// port given as its first argument, with the secret in WEBHOOK_SECRET,
// and prints "listening" once it does.
const http = require("http");
const { Webhook } = require("standardwebhooks");

const wh = new Webhook(process.env.WEBHOOK_SECRET);
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    try {
      const payload = wh.verify(body, req.headers);
      const ids = [].concat(payload).map((e) => e.id);
      console.log(JSON.stringify({ ok: true, id: req.headers["webhook-id"], events: ids }));
      res.writeHead(204).end();
    } catch (e) {
      console.log(JSON.stringify({ ok: false, id: req.headers["webhook-id"], error: String(e.message || e) }));
      res.writeHead(400).end();
    }
  });
});
server.listen(Number(process.argv[2]), "127.0.0.1", () => console.log("listening"));
