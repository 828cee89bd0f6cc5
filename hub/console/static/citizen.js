// The agent console's citizen file and call panels: find or create the
// person at the counter or on the line, open their file (who, open
// requests with their legal dates, timeline newest first), attach the
// current ticket, write a note; for a phone ticket, the caller's file
// opens by itself (the screen pop) and a callback is dialled from here.
// Everything goes through the HTTP API (/api/v1/citizens…, tickets/{id}/
// caller, counters/{id}/callback), which holds the rights and audits the
// reads. Personal data is only ever set as text, never logged, never put
// in the page's address.
"use strict";
const Panels = (() => {
  const { t, api, el, dur, lang, names, dialog } = G;
  const $ = (id) => document.getElementById(id);
  const tz = document.body.dataset.tz;
  const day = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "fr-FR", { timeZone: tz, day: "2-digit", month: "2-digit", year: "numeric" });
  const dayTime = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "fr-FR", { timeZone: tz, day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit" });
  const OPEN = new Set(["recue", "incomplete", "en_cours"]);

  let view = null;   // the console's last view
  let file = null;   // the open file: {citizen, timeline, requests}
  let popped = "";   // the phone ticket the screen pop was done for
  let caller = null; // its caller: {number, e164, citizens, attached}
  let lastPhone = null; // the last phone ticket seen, for the wrap-up

  const msg = (text) => { $("citizen-msg").textContent = text || ""; };
  const fullName = (c) => [c.first_names, c.family_name].filter(Boolean).join(" ") + (c.birth_name ? " (" + t("born") + " " + c.birth_name + ")" : "");
  const ns = (d) => (d || 0) / 1e6; // a Go duration (ns) in ms

  // search asks the file for q and lists the matches.
  async function search(q) {
    q = q.trim();
    if (!q) { msg(t("cz_type")); return; }
    msg(t("cz_searching"));
    const r = await api("GET", "/api/v1/citizens?limit=20&q=" + encodeURIComponent(q));
    if (!r.ok) { msg(r.message); return; }
    const ms = r.data.matches;
    msg(ms.length ? t("cz_found", ms.length) : t("cz_none"));
    $("citizen-results").replaceChildren(...ms.map((m) => result(m.citizen, m.why)));
  }

  // result is one match: a button opening the file, and what it is known by.
  function result(c, why) {
    const li = el("li");
    const b = el("button", "link", fullName(c));
    b.type = "button";
    b.onclick = () => { $("citizen-results").replaceChildren(); openFile(c.id, true); };
    li.appendChild(b);
    const facts = [c.birth_date ? t("cz_born_on", day.format(new Date(c.birth_date + "T12:00:00Z"))) : "", (c.phones || [])[0] || "", c.email || ""].filter(Boolean);
    if (why) facts.push(t("cz_by", why));
    li.appendChild(el("span", "why", facts.join(" · ")));
    return li;
  }

  // openFile reads a file (an audited read) and shows it.
  async function openFile(id, focus) {
    // The kinds' labels, asked once, with the first file.
    const [r] = await Promise.all([api("GET", "/api/v1/citizens/" + encodeURIComponent(id) + "?limit=50"), Requests.prime()]);
    if (!r.ok) { msg(r.message); return; }
    file = r.data;
    drawFile();
    if (focus) $("citizen-name").focus();
  }

  function drawFile() {
    const box = $("citizen-file");
    box.hidden = !file;
    if (!file) return;
    const c = file.citizen;
    $("citizen-name").textContent = fullName(c);
    const x = $("citizen-export"); // the DPO's only
    if (x) x.href = "/api/v1/citizens/" + encodeURIComponent(c.id) + "/export?format=html";
    const facts = [];
    if (c.birth_date) facts.push([t("cz_birth_date"), day.format(new Date(c.birth_date + "T12:00:00Z"))]);
    if (c.phones && c.phones.length) facts.push([t("cz_phone"), c.phones.join(", ")]);
    if (c.email) facts.push([t("cz_email"), c.email]);
    if (c.address) facts.push([t("cz_address"), c.address.replace(/\n/g, ", ")]);
    $("citizen-facts").replaceChildren(...facts.map(([k, v]) => {
      const d = el("div");
      d.appendChild(el("dt", "", k));
      d.appendChild(el("dd", "", v));
      return d;
    }));
    const open = file.requests.filter((q) => OPEN.has(q.status));
    $("citizen-requests-none").hidden = open.length > 0;
    $("citizen-requests").replaceChildren(...open.map(Requests.item));
    $("citizen-timeline-none").hidden = file.timeline.length > 0;
    $("citizen-timeline").replaceChildren(...file.timeline.map(entryItem));
    drawAttach();
    drawSectors();
  }

  function entryItem(e) {
    const li = el("li");
    li.appendChild(el("span", "at", dayTime.format(new Date(e.at))));
    li.appendChild(el("span", "what", entryText(e)));
    if (e.note) li.appendChild(el("span", "note", e.note.text));
    else if (e.call && e.call.wrapup_note) li.appendChild(el("span", "note", e.call.wrapup_note));
    if (e.agent) li.appendChild(el("span", "who", t("cz_by_agent", e.agent)));
    return li;
  }

  function entryText(e) {
    const svc = (id) => names.services[id] || id;
    switch (e.kind) {
      case "visit": return t("tl_visit", (e.visit && e.visit.number) || "", svc(e.visit && e.visit.service));
      case "call": {
        const c = e.call || {};
        const said = t("co_" + c.outcome);
        const line = t("tl_call", said.startsWith("co_") ? c.outcome || "" : said, dur(ns(c.wait)), dur(ns(c.talk)));
        return c.wrapup ? line + " — " + t("tl_wrapup", t("wu_" + c.wrapup)) : line;
      }
      case "note": return t("tl_note", t("sec_" + e.sector));
      case "mail": return t("tl_mail_" + (e.mail && e.mail.channel), (e.mail && e.mail.subject) || "");
      case "request": {
        const st = e.step || {};
        const q = file && file.requests.find((x) => x.id === st.request);
        return t("tl_request", (q && (q.title || q.kind)) || st.label || st.kind || "", t("rq_" + st.status));
      }
      case "merge": return t("tl_merge");
      default: return e.kind;
    }
  }

  // drawAttach offers to attach the current ticket to the open file.
  function drawAttach() {
    const b = $("b-attach"), st = $("attach-state");
    const tk = view && view.ticket;
    if (!file || !tk) {
      b.hidden = true;
      st.textContent = tk ? "" : t("cz_no_ticket");
      return;
    }
    const done = tk.citizen === file.citizen.id;
    b.hidden = done;
    b.textContent = t("cz_attach", tk.number);
    st.textContent = done ? t("cz_attached", tk.number) : "";
  }

  function drawSectors() {
    const s = $("note-sector");
    const want = (view && view.sectors) || ["accueil"];
    if (s.dataset.k === want.join()) return;
    s.dataset.k = want.join();
    s.replaceChildren(...want.map((x) => { const o = el("option", "", t("sec_" + x)); o.value = x; return o; }));
  }

  async function attach() {
    const tk = view && view.ticket;
    if (!file || !tk) return;
    const r = await api("POST", "/api/v1/tickets/" + encodeURIComponent(tk.id) + "/citizen", { citizen: file.citizen.id });
    if (!r.ok) { $("attach-state").textContent = r.message; return; }
    $("attach-state").textContent = t("cz_attached", tk.number);
    openFile(file.citizen.id, false);
  }

  async function addNote(e) {
    e.preventDefault();
    if (!file) return;
    const text = $("note-text").value.trim();
    if (!text) { $("note-state").textContent = t("cz_note_empty"); return; }
    const r = await api("POST", "/api/v1/citizens/" + encodeURIComponent(file.citizen.id) + "/notes", { sector: $("note-sector").value, text });
    if (!r.ok) { $("note-state").textContent = r.message; return; }
    $("note-text").value = "";
    $("note-state").textContent = t("cz_note_added");
    openFile(file.citizen.id, false);
  }

  // create opens the new file's dialog, prefilled with phone when given.
  function create(phone) {
    dialog("citizen-dialog", (form) => {
      if (phone) form.phone.value = phone;
    }, async (form) => {
      const c = { family_name: form.family_name.value.trim(), first_names: form.first_names.value.trim() };
      if (form.birth_date.value) c.birth_date = form.birth_date.value;
      if (form.phone.value.trim()) c.phones = [form.phone.value.trim()];
      if (form.email.value.trim()) c.email = form.email.value.trim();
      const r = await api("POST", "/api/v1/citizens", c);
      if (!r.ok) return r.message;
      msg(r.data.duplicates.length ? t("cz_created_dups", r.data.duplicates.length) : t("cz_created"));
      await openFile(r.data.citizen.id, false);
      return null;
    }, () => $("citizen-name").focus());
  }

  // The call panel. popFor does the screen pop for a phone ticket: its
  // caller, and their file when exactly one matches (or the ticket is
  // already attached).
  async function popFor(tk) {
    wrapUpFor(null);
    caller = null;
    file = null; // a new caller: the last one's file closes
    drawFile();
    $("citizen-results").replaceChildren();
    msg("");
    drawCall();
    const r = await api("GET", "/api/v1/tickets/" + encodeURIComponent(tk.id) + "/caller");
    if (popped !== tk.id) return;
    if (!r.ok) { $("call-who").textContent = r.message; return; }
    caller = r.data;
    drawCall();
    const ms = caller.citizens || [];
    if (caller.attached) openFile(caller.attached, false);
    else if (ms.length === 1) openFile(ms[0].citizen.id, false);
  }

  function drawCall() {
    const tk = view && view.ticket;
    const phone = tk && tk.phone;
    $("call-card").hidden = !phone;
    $("call-none").hidden = !!phone || !!$("call-wrapup").textContent;
    if (!phone) return;
    $("call-wrapup").textContent = "";
    const num = caller ? (caller.number || t("withheld")) : "…";
    let what = t(phone === "callback" ? "call_callback" : "call_from", num, tk.number);
    if (phone === "call" && tk.called_at) what += " — " + t("call_waited", dur(Date.parse(tk.called_at) - Date.parse(tk.issued_at)));
    $("call-what").textContent = what;
    const ms = (caller && caller.citizens) || [];
    let who = "";
    if (caller && caller.attached) who = t("call_attached");
    else if (ms.length === 1) who = t("call_found");
    else if (caller && !ms.length) who = t("call_unknown");
    else if (ms.length > 1 && !caller.attached) who = t("call_several", ms.length);
    $("call-who").textContent = who;
    $("call-matches").replaceChildren(...(ms.length > 1 && !caller.attached ? ms.map((m) => result(m.citizen, "")) : []));
    $("b-call-create").hidden = !(caller && !ms.length && !caller.attached);
    $("b-callback").hidden = phone !== "callback";
    $("b-callback").textContent = t("call_back", caller && caller.number ? caller.number : "");
  }

  // callBack asks the telephone system to ring the agent's phone, then
  // the caller's; its state is asked for until it is known.
  async function callBack() {
    if (!view || !view.counter) return;
    const st = $("callback-state");
    st.textContent = t("cb_asking");
    const r = await api("POST", "/api/v1/counters/" + encodeURIComponent(view.counter.id) + "/callback", {});
    if (!r.ok) { st.textContent = r.message; return; }
    const ref = r.data.ref;
    for (let i = 0; i < 30; i++) {
      const s = await api("GET", "/api/v1/callbacks/" + encodeURIComponent(ref));
      if (s.ok && s.data.state !== "pending") {
        st.textContent = s.data.state === "ringing" ? t("cb_ringing") : t("cb_failed", s.data.reason || "");
        return;
      }
      await new Promise((ok) => setTimeout(ok, 1000));
    }
    st.textContent = t("cb_unknown");
  }

  // wrapUpFor offers the wrap-up of the call of ticket tk, which ended
  // (null: none is offered).
  let wrapping = null;
  function wrapUpFor(tk) {
    wrapping = tk;
    const f = $("wrapup-form");
    f.hidden = !tk;
    if (!tk) return;
    f.reset();
    $("wrapup-state").textContent = "";
    $("wrapup-h").textContent = t("wu_title", tk.number);
  }

  async function wrapUp(e) {
    e.preventDefault();
    if (!wrapping) return;
    const r = await api("POST", "/api/v1/tickets/" + encodeURIComponent(wrapping.id) + "/wrapup",
      { outcome: $("wrapup-outcome").value, note: $("wrapup-note").value.trim() });
    if (!r.ok) { $("wrapup-state").textContent = r.message; return; }
    $("wrapup-state").textContent = t(r.data.citizen ? "wu_saved" : "wu_saved_alone");
    if (file && r.data.citizen === file.citizen.id) openFile(file.citizen.id, false);
  }

  // render follows the console's view.
  function render(v) {
    const prev = view;
    view = v;
    const tk = v.ticket;
    if (tk && tk.phone && popped !== tk.id) {
      popped = tk.id;
      lastPhone = tk;
      popFor(tk);
    }
    if (!tk || !tk.phone) {
      if (lastPhone && (!tk || tk.id !== lastPhone.id)) {
        // The call ended: the hub files it in the caller's timeline.
        $("call-wrapup").textContent = t("call_ended", lastPhone.number);
        if (lastPhone.phone === "call") wrapUpFor(lastPhone);
        lastPhone = null;
        caller = null;
        if (file) { const id = file.citizen.id; openFile(id, false); setTimeout(() => file && file.citizen.id === id && openFile(id, false), 1500); }
      }
      popped = tk ? popped : "";
    }
    if (prev && prev.ticket && tk && prev.ticket.id !== tk.id && !tk.phone) $("callback-state").textContent = "";
    drawCall();
    drawAttach();
    drawSectors();
  }

  $("citizen-search").addEventListener("submit", (e) => { e.preventDefault(); search($("citizen-q").value); });
  $("b-citizen-new").addEventListener("click", () => create(""));
  $("b-call-create").addEventListener("click", () => create(caller && caller.number));
  $("b-attach").addEventListener("click", attach);
  $("note-form").addEventListener("submit", addNote);
  $("b-callback").addEventListener("click", callBack);
  $("wrapup-form").addEventListener("submit", wrapUp);
  Requests.init({ file: () => file, ticket: () => view && view.ticket, reload: () => file && openFile(file.citizen.id, false) });

  return { render };
})();
