// The agent console: draws the agent's view as the hub streams it, and
// sends the buttons' operations to the HTTP API (/api/v1/counters/{id}/…),
// which holds the rules. Shortcuts: Alt+Shift+1 to 8, the buttons in
// order (by the key's position, whatever the keyboard's layout).
"use strict";
(() => {
  const { t, api, stream, el, dur, timer, clock, now, dialog, options, transferForm, announce, lang, site, names, targets } = G;
  const $ = (id) => document.getElementById(id);
  const OPS = ["call_next", "recall", "start", "finish", "no_show", "transfer", "pause", "resume"];
  const PATHS = { call_next: "next", recall: "recall", start: "start", finish: "finish", no_show: "noshow", transfer: "transfer", pause: "pause", resume: "resume", close: "close" };
  let view = null;
  let shownHistory = "";
  let focusDesk = false; // move the focus to call next when the desk appears

  const fail = (msg) => { $("error").textContent = msg; };
  const clear = () => { $("error").textContent = ""; };

  // act runs op at the agent's counter (body: its arguments). Operations
  // go to the hub one after the other, in the order pressed; a second
  // press of a button whose operation is still on its way does nothing (a
  // double click calls one person, not two).
  let chain = Promise.resolve();
  const inflight = new Set();
  function act(op, body) {
    if (!view || !view.counter || inflight.has(op)) return Promise.resolve(null);
    inflight.add(op);
    const path = "/api/v1/counters/" + encodeURIComponent(view.counter.id) + "/" + PATHS[op];
    const p = chain.then(async () => {
      const r = await api("POST", path, body);
      inflight.delete(op);
      if (r.ok) clear();
      return r;
    });
    chain = p.catch(() => null);
    return p;
  }

  // press is what a button or its shortcut does.
  async function press(op) {
    if (!view || !view.counter) return;
    const b = op === "close" ? $("b-close") : $("b-" + op);
    if (b.getAttribute("aria-disabled") === "true") {
      fail(t("not_now", b.querySelector(".label") ? b.querySelector(".label").textContent : b.textContent));
      return;
    }
    if (op === "transfer") return openTransfer();
    if (op === "pause") return openPause();
    if (op === "close") return openClose();
    const r = await act(op);
    if (r && !r.ok) fail(r.message);
  }

  function openTransfer() {
    let body;
    dialog("transfer-dialog", (form) => {
      $("transfer-h").textContent = t("transfer_title", view.ticket.number);
      body = transferForm(form, targets(view.ticket, view.agent));
    }, async () => {
      const r = await act("transfer", body());
      return r && !r.ok ? r.message : null;
    });
  }

  function openPause() {
    dialog("pause-dialog", (form) => {
      options(form.reason, site.reasons.map((x) => ({ id: x, name: x })));
    }, async (form) => {
      const r = await act("pause", { reason: form.reason.value });
      return r && !r.ok ? r.message : null;
    });
  }

  function openClose() {
    dialog("close-dialog", () => {
      $("close-h").textContent = t("close_confirm", view.counter.name);
    }, async () => {
      const r = await act("close");
      return r && !r.ok ? r.message : null;
    }, () => {
      if (!$("chooser").hidden) $("choose-h").focus();
      else focusChooser = true;
    });
  }

  // The chooser: the counters the agent may open.
  let focusChooser = false; // move the focus to the chooser when it appears
  function renderChooser(v) {
    $("desk").hidden = true;
    $("chooser").hidden = false;
    if (focusChooser) {
      focusChooser = false;
      $("choose-h").focus();
    }
    $("no-agent").hidden = !v.no_agent;
    $("choose-help").hidden = !!v.no_agent;
    const lists = { visit: [], phone: [] };
    for (const c of v.choices || []) {
      const li = el("li", "choice");
      li.appendChild(el("span", "name", c.name));
      if (c.open) {
        li.appendChild(el("span", "why", t("occupied_by", c.taken_by)));
      } else if (!c.skilled) {
        li.appendChild(el("span", "why", t("no_skill")));
      } else {
        const b = el("button", "open", t("open", c.name));
        b.type = "button";
        b.onclick = async () => {
          focusDesk = true; // the desk appears when the hub has opened the counter
          const r = await api("POST", "/api/v1/counters/" + encodeURIComponent(c.id) + "/open", {});
          if (!r.ok) { focusDesk = false; fail(r.message); return; }
          clear();
        };
        li.appendChild(b);
      }
      lists[c.phone ? "phone" : "visit"].push(li);
    }
    $("choices-visit").replaceChildren(...lists.visit);
    $("choices-phone").replaceChildren(...lists.phone);
  }

  function renderTicket(v) {
    const tk = v.ticket;
    $("no-ticket").hidden = !!tk;
    $("ticket-card").hidden = !tk;
    if (!tk) return;
    $("ticket-number").textContent = tk.number;
    $("ticket-service").textContent = tk.service_name;
    let ch = t("ch_" + tk.channel);
    if (tk.priority && tk.priority !== "none") ch += " · " + t("p_" + tk.priority);
    $("ticket-channel").textContent = ch;
    $("ticket-state").textContent = t("t_" + tk.state) + (tk.recalls ? " · " + t("recalls") + " " + tk.recalls : "");
    $("ticket-issued").textContent = clock(tk.issued_at);
    $("ticket-note").hidden = !tk.note;
    $("ticket-note-text").textContent = tk.note || "";
  }

  function renderButtons(v) {
    for (const op of OPS.concat(["close"])) {
      const b = $("b-" + op);
      b.setAttribute("aria-disabled", v.can[op] ? "false" : "true");
    }
  }

  function renderNext(v) {
    const none = $("next-none");
    none.hidden = v.next.length > 0;
    none.textContent = t("next_none");
    $("next").replaceChildren(...v.next.map((n, i) => {
      const li = el("li", i === 0 ? "first" : "");
      if (i === 0) li.appendChild(el("span", "lead", t("next_first") + " "));
      li.appendChild(el("strong", "num", n.number));
      li.appendChild(el("span", "", " " + n.service_name + " · " + t("ch_" + n.channel)));
      li.appendChild(el("span", "tier", n.tier_text));
      li.appendChild(el("span", "why", n.why));
      return li;
    }));
  }

  function renderWaits(v) {
    $("waits").replaceChildren(...v.services.map((s) => {
      const tr = el("tr");
      tr.appendChild(el("th", "", s.name)).scope = "row";
      let w = String(s.waiting);
      if (s.waiting_phone) w += " (" + t("of_phone") + " " + s.waiting_phone + ")";
      tr.appendChild(el("td", "n", w));
      const longest = el("td", "n");
      if (s.oldest) { longest.dataset.since = s.oldest; longest.dataset.target = s.target_s; }
      longest.textContent = t("dash");
      tr.appendChild(longest);
      tr.appendChild(el("td", "n", s.estimated_s == null ? t("dash") : dur(s.estimated_s * 1000)));
      return tr;
    }));
    tick();
  }

  // The ticket's history, from the log: read again when the ticket changes.
  async function renderHistory(v) {
    const tk = v.ticket;
    const k = tk ? [tk.id, tk.state, tk.recalls, tk.transfers, tk.citizen].join("/") : "";
    if (k === shownHistory) return;
    shownHistory = k;
    if (!tk) { $("history").replaceChildren(); return; }
    const r = await api("GET", "/api/v1/tickets/" + encodeURIComponent(tk.id) + "/events");
    if (!r.ok || shownHistory !== k) return;
    const n = names;
    $("history").replaceChildren(...r.data.events.map((ev) => {
      const li = el("li");
      li.appendChild(el("span", "at", clock(ev.at)));
      li.appendChild(el("span", "what", historyText(ev, n)));
      if (ev.note) {
        const note = el("span", "note");
        note.appendChild(el("strong", "", t("note") + " "));
        note.appendChild(document.createTextNode(ev.note));
        li.appendChild(note);
      }
      return li;
    }));
  }

  function historyText(ev, n) {
    const svc = (id) => n.services[id] || id;
    switch (ev.type) {
      case "ticket.issued":
        return (ev.device ? t("h_issued_at", ev.device) : t("h_issued")) + (ev.printed_at ? " (" + t("h_offline") + ")" : "");
      case "ticket.called": return t("h_called", n.counters[ev.counter] || ev.counter);
      case "ticket.recalled": return t("h_recalled", ev.recall);
      case "ticket.started": return t("h_started");
      case "ticket.served": return t("h_served");
      case "ticket.noshow": return t("h_noshow");
      case "ticket.cancelled": return t("h_cancelled") + (ev.reason ? " — " + ev.reason : "");
      case "ticket.returned": return t("h_returned");
      case "ticket.citizen_attached": return t("h_citizen_attached");
      case "ticket.transferred":
        if (ev.to_agent) return t("h_to_agent", n.agents[ev.to_agent] || ev.to_agent);
        return t("h_transferred", svc(ev.from), svc(ev.service));
      default: return ev.type;
    }
  }

  // announceChanges tells a screen reader what changed at the counter.
  function announceChanges(prev, v) {
    const a = prev && prev.ticket, b = v.ticket;
    if (b && b.state === "called" && (!a || a.id !== b.id)) {
      announce("announce", t("announce_called", b.number, v.counter.name));
    } else if (a && b && a.id === b.id && b.recalls > a.recalls) {
      announce("announce", t("announce_recalled", b.number));
    } else if (prev && prev.state !== v.state && v.state === "paused") {
      announce("announce", t("announce_paused"));
    } else if (prev && prev.state === "paused" && v.state !== "paused") {
      announce("announce", t("announce_available"));
    }
  }

  function render(v) {
    if (v.site) G.setSite(v.site, v.site_version);
    const prev = view;
    view = v;
    if (v.no_agent || !v.counter) {
      renderChooser(v);
      return;
    }
    $("chooser").hidden = true;
    $("desk").hidden = false;
    if (focusDesk) {
      focusDesk = false;
      $("b-call_next").focus();
    }
    $("where").textContent = t("at_counter", v.counter.name, v.agent_name);
    const st = $("agent-state");
    st.textContent = t("state_" + v.state) + (v.pause_reason ? " — " + v.pause_reason : "");
    st.className = "state s-" + v.state;
    renderTicket(v);
    renderButtons(v);
    renderNext(v);
    renderWaits(v);
    renderHistory(v);
    Panels.render(v);
    announceChanges(prev && prev.counter ? prev : null, v);
  }

  // tick moves the clocks: the time since the ticket was called, the
  // longest waits.
  function tick() {
    const tk = view && view.ticket;
    if (tk && tk.called_at) $("ticket-timer").textContent = timer(now() - Date.parse(tk.called_at));
    else $("ticket-timer").textContent = t("dash");
    for (const td of document.querySelectorAll("#waits td[data-since]")) {
      const ms = now() - Date.parse(td.dataset.since);
      td.textContent = dur(ms);
      td.classList.toggle("breach", Number(td.dataset.target) > 0 && ms > Number(td.dataset.target) * 1000);
    }
  }
  setInterval(tick, 1000);

  for (const op of OPS) $("b-" + op).addEventListener("click", () => press(op));
  $("b-close").addEventListener("click", () => press("close"));

  // Alt+Shift+1…8: the key's position (code), not its character: on a
  // French keyboard Shift+1 is "1", Shift+& too. Neither Chromium, Firefox
  // nor NVDA, JAWS or Orca take Alt+Shift+digit.
  document.addEventListener("keydown", (e) => {
    if (!e.altKey || !e.shiftKey || e.ctrlKey || e.metaKey) return;
    const m = /^(?:Digit|Numpad)([1-8])$/.exec(e.code);
    if (!m || document.querySelector("dialog[open]")) return;
    e.preventDefault();
    const op = OPS[Number(m[1]) - 1];
    $("b-" + op).focus();
    press(op);
  });

  stream("/agent/events?lang=" + lang + "&site=" + encodeURIComponent(G.siteVersion()), render);
})();
