// The citizen panel's requests ("demandes"): each open request with its
// legal dates (the implicit decision, or the suspension while documents
// are missing) and what an agent does with it — register one (its kind
// from the site's list, with the regime, its title, the channel, the day
// of receipt: today in the site's zone unless said), ask for missing
// documents by a day, mark them received, move it on (status, step),
// open its printable acknowledgement. Everything goes through the HTTP
// API (/api/v1/requests/…), which holds the rights and audits. Nothing
// typed is logged.
"use strict";
const Requests = (() => {
  const { t, api, el, lang, dialog } = G;
  const tz = document.body.dataset.tz;
  const day = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "fr-FR", { timeZone: tz, day: "2-digit", month: "2-digit", year: "numeric" });
  const iso = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" });
  const $ = (id) => document.getElementById(id);

  let host = null;   // {file: () => the open file, reload: () => reads it again}
  let kinds = null;  // the kinds the agent may register, once asked

  // today is the site's civil day, YYYY-MM-DD; plus moves it by n days.
  const today = (n) => iso.format(new Date(G.now() + (n || 0) * 864e5));
  const shown = (d) => day.format(new Date(d));
  const state = (text) => { $("request-state").textContent = text || ""; };

  // delay says a kind's delay: "2 mois", "5 jours".
  function delay(d) {
    if (!d) return "";
    if (d.months) return t("rk_months", d.months);
    return d.days ? t("rk_days", d.days) : "";
  }

  // regime says what the town's silence means for a kind.
  function regime(k) {
    if (k.regime === "acceptation" || k.regime === "rejet") return t("rk_" + k.regime, delay(k.delay));
    return t("rk_aucun");
  }

  // awaited is the request's open suspension: documents asked, not come.
  const awaited = (q) => (q.suspensions || []).filter((s) => !s.received).pop();

  // deadline says the implicit decision's date, or why there is none now.
  // (Pieces asked for after the decision was born change nothing: the
  // date is then neither pending nor provisional.)
  function deadline(q) {
    const im = q.implicit_decision || {};
    if (im.pending) return t("rq_suspended_pending");
    if (!im.regime || im.regime === "aucun" || !im.day) return "";
    let d = t("rq_implicit_" + im.regime, shown(im.day));
    if (im.provisional) d += " " + t("rq_suspended_provisional");
    return d;
  }

  // item is one open request in the panel, with its actions.
  function item(q) {
    const li = el("li");
    li.dataset.request = q.id;
    li.appendChild(el("strong", "", q.title || kindLabel(q.kind)));
    li.appendChild(el("span", "", " — " + t("rq_" + q.status) + " · " + t("rq_received", day.format(new Date(q.received_at))) + " · " + t("rch_" + q.channel)));
    const d = deadline(q);
    if (d) li.appendChild(el("span", "deadline", d));
    const sp = awaited(q);
    if (sp) li.appendChild(el("span", "pieces", t("rq_pieces", sp.pieces, shown(sp.due))));
    const acts = el("span", "request-actions");
    const a = el("a", "", t("rq_ack"));
    a.href = "/api/v1/requests/" + encodeURIComponent(q.id) + "/acknowledgement";
    a.target = "_blank";
    a.rel = "noopener";
    acts.appendChild(a);
    const title = q.title || kindLabel(q.kind);
    acts.appendChild(button(sp ? "rq_b_received" : "rq_b_documents", title, sp ? () => received(q) : () => askDocuments(q)));
    acts.appendChild(button("rq_b_step", title, () => step(q)));
    li.appendChild(acts);
    return li;
  }

  // button is a small action on a request; its accessible name says which.
  function button(key, title, fn) {
    const b = el("button", "small", t(key));
    b.type = "button";
    b.setAttribute("aria-label", t(key) + " — " + title);
    b.onclick = fn;
    return b;
  }

  function kindLabel(id) {
    const k = (kinds || []).find((x) => x.id === id);
    return k ? k.label : id;
  }

  async function loadKinds() {
    if (kinds) return true;
    const r = await api("GET", "/api/v1/requests/kinds");
    if (!r.ok) { state(r.message); return false; }
    kinds = r.data.kinds;
    return true;
  }

  // register opens the new request's dialog for the open file.
  async function register() {
    const f = host.file();
    if (!f || !(await loadKinds())) return;
    if (!kinds.length) { state(t("rq_no_kinds")); return; }
    dialog("request-dialog", (form) => {
      form.kind.replaceChildren(...kinds.map((k) => { const o = el("option", "", k.label + " — " + regime(k)); o.value = k.id; return o; }));
      form.received_on.value = today();
      form.received_on.max = today();
      const tk = host.ticket();
      form.channel.value = tk && tk.phone ? "telephone" : "guichet";
    }, async (form) => {
      const body = { kind: form.kind.value, title: form.title.value.trim(), channel: form.channel.value };
      if (form.received_on.value && form.received_on.value !== today()) body.received_on = form.received_on.value;
      const r = await api("POST", "/api/v1/citizens/" + encodeURIComponent(f.citizen.id) + "/requests", body);
      if (!r.ok) return r.message;
      await host.reload();
      state(t("rq_registered", r.data.title || kindLabel(r.data.kind)));
      return null;
    }, () => focusRequest(null));
  }

  // askDocuments opens the missing documents' dialog for request q.
  function askDocuments(q) {
    dialog("documents-dialog", (form) => {
      form.due.min = today(1);
      $("documents-h").textContent = t("rq_documents_title", q.title || kindLabel(q.kind));
    }, async (form) => {
      const pieces = form.pieces.value.trim();
      if (!pieces) return t("rq_pieces_empty");
      if (!form.due.value) return t("rq_due_empty");
      const r = await api("POST", "/api/v1/requests/" + encodeURIComponent(q.id) + "/documents", { pieces, due: form.due.value });
      if (!r.ok) return r.message;
      await host.reload();
      state(t("rq_documents_asked"));
      return null;
    }, () => focusRequest(q.id));
  }

  // received records that the documents asked for request q came today.
  async function received(q) {
    const r = await api("POST", "/api/v1/requests/" + encodeURIComponent(q.id) + "/documents/received", {});
    if (!r.ok) { state(r.message); return; }
    await host.reload();
    state(t("rq_documents_came"));
    focusRequest(q.id);
  }

  // step opens the dialog moving request q on: its status, a step.
  function step(q) {
    dialog("step-dialog", (form) => {
      $("step-h").textContent = t("rq_step_title", q.title || kindLabel(q.kind));
      form.status.value = q.status === "incomplete" ? "en_cours" : q.status;
    }, async (form) => {
      const body = { status: form.status.value, step: form.step.value.trim() };
      if (body.status === q.status && !body.step) return t("rq_step_nothing");
      const r = await api("POST", "/api/v1/requests/" + encodeURIComponent(q.id) + "/steps", body);
      if (!r.ok) return r.message;
      await host.reload();
      state(t("rq_moved", t("rq_" + r.data.status)));
      return null;
    }, () => focusRequest(q.id));
  }

  // focusRequest puts the focus on request id's first action, or on the
  // list's heading when it is gone (closed) or none is given.
  function focusRequest(id) {
    const b = id && document.querySelector(`#citizen-requests li[data-request="${CSS.escape(id)}"] button`);
    if (b) b.focus();
    else $("citizen-requests-h").focus();
  }

  // init wires the panel to its host (citizen.js).
  function init(h) {
    host = h;
    $("b-request-new").addEventListener("click", register);
  }

  // prime asks for the kinds (once), so that a request without a title
  // shows its kind's label; it resolves when they are known or refused.
  function prime() { return kinds ? Promise.resolve(true) : loadKinds(); }

  return { init, item, prime };
})();
