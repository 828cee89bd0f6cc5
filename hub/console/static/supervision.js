// The supervision page: draws the site's view as the hub streams it, and
// the supervisor's actions as calls to the HTTP API, which holds the rules.
"use strict";
(() => {
  const { t, api, stream, el, dur, clock, now, dialog, options, transferForm, lang, site, names, targets } = G;
  const $ = (id) => document.getElementById(id);
  let view = null;

  const fail = (msg) => { $("error").textContent = msg; };
  const done = () => { $("error").textContent = ""; $("status").textContent = t("done"); };

  // call runs an action and says how it went; it returns the refusal's
  // words, or nothing when done (for a dialog).
  async function call(method, path, body) {
    const r = await api(method, path, body);
    if (!r.ok) return r.message;
    done();
    return null;
  }
  async function now1(method, path, body) {
    const msg = await call(method, path, body);
    if (msg) fail(msg);
  }
  const enc = encodeURIComponent;

  function button(label, fn, cls) {
    const b = el("button", cls || "small", label);
    b.type = "button";
    b.onclick = fn;
    return b;
  }

  function cell(tr, text, cls) { return tr.appendChild(el("td", cls || "", text)); }

  // patch makes the rows of tbody those of items, in their order: a row
  // whose item is unchanged is kept as it is (with its focus), a changed
  // one is made again by row(item) in its place, a row whose key is gone
  // is removed, a new one is inserted where it belongs. A busy queue thus
  // redraws a row or two, not the table.
  const rows = new WeakMap(); // tbody → Map key → {j, tr}
  const keyOf = new WeakMap(); // tr → its key
  function patch(tbody, items, key, row) {
    const old = rows.get(tbody) || new Map();
    const next = new Map();
    const keys = new Set(items.map(key));
    let at = tbody.firstChild;
    // skip removes the rows gone from the view where the walk stands, so
    // that a row removed does not make every row after it move.
    const skip = () => {
      while (at && !keys.has(keyOf.get(at))) { const n = at.nextSibling; at.remove(); at = n; }
    };
    for (const item of items) {
      skip();
      const k = key(item), j = JSON.stringify(item);
      let r = old.get(k);
      if (!r || r.j !== j) {
        if (r) {
          if (r.tr === at) at = at.nextSibling;
          r.tr.remove();
        }
        r = { j, tr: row(item) };
        keyOf.set(r.tr, k);
      }
      next.set(k, r);
      if (r.tr !== at) tbody.insertBefore(r.tr, at);
      else at = at.nextSibling;
    }
    // What is left after the rows placed is gone from the view (or the
    // line for none).
    while (at) { const n = at.nextSibling; at.remove(); at = n; }
    rows.set(tbody, next);
  }

  // empty shows a table's one line for none.
  function empty(tbody, text, cols) {
    const tr = el("tr");
    cell(tr, text, "quiet").colSpan = cols;
    tbody.replaceChildren(tr);
    rows.delete(tbody);
  }

  function renderAlerts(v) {
    $("alerts-count").textContent = v.alerts.length ? "(" + v.alerts.length + ")" : "";
    if (!v.alerts.length) {
      $("alerts").replaceChildren(el("li", "quiet", t("alerts_none")));
    } else {
      $("alerts").replaceChildren(...v.alerts.map((a) => {
        const li = el("li", "alert k-" + a.kind);
        li.appendChild(el("span", "at", clock(a.at)));
        li.appendChild(el("span", "", a.text));
        return li;
      }));
    }
    $("alert-log").replaceChildren(...v.log.map((a) => {
      const li = el("li", a.cleared ? "cleared" : "raised");
      li.appendChild(el("span", "at", clock(a.at)));
      li.appendChild(el("span", "tag", a.cleared ? t("cleared") : t("raised")));
      li.appendChild(el("span", "", a.text));
      return li;
    }));
  }

  function renderServices(v) {
    patch($("services"), v.services, (s) => s.id, (s) => {
      const tr = el("tr");
      const name = tr.appendChild(el("th", "", s.name));
      name.scope = "row";
      if (s.closed_to_new) {
        name.appendChild(el("span", "tag closed", t("closed_msg")));
        if (s.closed_message) name.appendChild(el("span", "note", " " + s.closed_message));
      }
      cell(tr, String(s.waiting - s.waiting_phone), "n");
      cell(tr, s.channels && s.channels.includes("phone") ? String(s.waiting_phone) : t("dash"), "n");
      const longest = cell(tr, t("dash"), "n wait");
      if (s.oldest) { longest.dataset.since = s.oldest; longest.dataset.target = s.target_s; since(longest); }
      let est = s.estimated_s == null ? t("dash") : dur(s.estimated_s * 1000);
      if (s.estimated_phone_s != null && s.channels.includes("visit")) est += " / " + dur(s.estimated_phone_s * 1000);
      cell(tr, est, "n");
      cell(tr, s.target_s ? dur(s.target_s * 1000) : t("dash"), "n");
      cell(tr, String(Math.round(s.agents * 10) / 10), "n");
      const acts = cell(tr, "", "acts");
      if (s.closed_to_new) {
        acts.appendChild(button(t("a_reopen"), () => now1("POST", "/api/v1/services/" + enc(s.id) + "/reopen", {})));
      } else {
        acts.appendChild(button(t("a_close_service"), () => closeService(s)));
      }
      return tr;
    });
    $("unserved").replaceChildren(...(v.unserved.length ? v.unserved.map((l) => el("li", "warn", t("unserved_line", l.service_name, t("ch_" + l.channel))))
      : [el("li", "quiet", t("unserved_none"))]));
  }

  function renderCounters(v) {
    patch($("counters"), v.counters, (c) => c.id, (c) => {
      const tr = el("tr", c.open ? "" : "closed");
      tr.appendChild(el("th", "", c.name)).scope = "row";
      cell(tr, c.open ? c.agent_name : t("dash"));
      cell(tr, c.open ? t("state_" + c.state) + (c.pause_reason ? " — " + c.pause_reason : "") + (c.line ? " · " + t("line_open") : "") : t("closed"), "s-" + c.state);
      const at = cell(tr, t("dash"), "n");
      if (c.open && c.since) { at.dataset.since = c.since; since(at); }
      const tk = cell(tr, c.ticket ? c.ticket.number + " · " + t("t_" + c.ticket.state) : t("dash"));
      if (c.ticket && c.ticket.note) tk.appendChild(el("span", "note", " " + c.ticket.note));
      const acts = cell(tr, "", "acts");
      if (c.open) {
        if (c.state === "paused") acts.appendChild(button(t("a_resume"), () => now1("POST", "/api/v1/agents/" + enc(c.agent) + "/resume", {})));
        else acts.appendChild(button(t("a_pause"), () => pauseAgent(c)));
        acts.appendChild(button(t("a_signout"), () => signOut(c)));
        if (c.ticket) acts.appendChild(button(t("a_transfer"), () => transfer(c.ticket)));
      }
      return tr;
    });
    $("agents-offline").textContent = v.agents_offline.length ? v.agents_offline.map((a) => a.name).join(", ") : t("dash");
  }

  // renderPhone shows the day's calls of the telephony link, if the site
  // has one.
  function renderPhone(v) {
    const p = v.phone;
    $("phone").hidden = !p;
    if (!p) return;
    const rows = [["ph_waiting", p.waiting], ["ph_talking", p.talking], ["ph_abandoned", p.abandoned],
      ["ph_cb_waiting", p.callbacks_waiting], ["ph_cb_done", p.callbacks_done], ["ph_lines", p.lines_open]];
    $("phone-figures").replaceChildren(...rows.map(([k, n]) => {
      const d = el("div");
      d.appendChild(el("dt", "", t(k)));
      const dd = el("dd", "", String(n));
      if (k === "ph_waiting" && p.oldest_waiting) {
        const s = el("span", "n");
        s.dataset.since = p.oldest_waiting;
        since(s);
        dd.append(" · ", s);
      }
      d.appendChild(dd);
      return d;
    }));
  }

  // renderDestinations shows where the events go, and what fails.
  function renderDestinations(v) {
    const ds = v.destinations || [];
    $("destinations-panel").hidden = !ds.length;
    patch($("destinations"), ds, (d) => d.name, (d) => {
      const tr = el("tr", d.state === "ok" ? "" : "bad");
      tr.appendChild(el("th", "", d.name)).scope = "row";
      cell(tr, d.kind);
      cell(tr, t("dest_" + d.state));
      cell(tr, String(d.behind), "n");
      cell(tr, String(d.dead_letters), d.dead_letters ? "n bad" : "n");
      cell(tr, d.last_error || t("dash"));
      return tr;
    });
  }

  function renderTickets(v) {
    $("tickets-count").textContent = "(" + (v.tickets.length + v.more) + ")";
    if (!v.tickets.length) {
      empty($("tickets"), t("waiting_none"), 6);
    } else {
      patch($("tickets"), v.tickets, (tk) => tk.id, (tk) => {
        const tr = el("tr");
        const num = tr.appendChild(el("th", "", tk.number));
        num.scope = "row";
        cell(tr, tk.service_name);
        let ch = t("ch_" + tk.channel);
        if (tk.priority && tk.priority !== "none") ch += " · " + t("p_" + tk.priority);
        cell(tr, ch);
        let st = t("t_" + tk.state);
        if (tk.state === "called" && tk.counter_name) st += " · " + tk.counter_name;
        if (tk.for_agent) st += " · " + t("for_agent", tk.for_agent_name || tk.for_agent);
        const s = cell(tr, st);
        if (tk.note) s.appendChild(el("span", "note", " " + tk.note));
        const w = cell(tr, t("dash"), "n wait");
        w.dataset.since = tk.issued_at;
        since(w);
        const acts = cell(tr, "", "acts");
        acts.appendChild(button(t("a_transfer"), () => transfer(tk)));
        acts.appendChild(button(t("a_cancel"), () => cancel(tk)));
        return tr;
      });
    }
    $("tickets-more").textContent = v.more ? t("more_waiting", v.more) : "";
  }

  function renderDevices(v) {
    $("rollout").textContent = v.rollout ? v.rollout.text : "";
    $("rollout").hidden = !v.rollout;
    if (!v.devices.length) {
      empty($("devices"), t("no_devices"), 7);
      return;
    }
    patch($("devices"), v.devices, (d) => d.id, (d) => {
      const bad = d.disabled ? "" : !d.seen ? "" : !d.online || d.hot ? "bad" : (d.printer || []).some((p) => p !== "pr_ok" && p !== "pr_paper_low") ? "bad" : (d.printer || []).includes("pr_paper_low") ? "warn" : "";
      const tr = el("tr", bad);
      tr.appendChild(el("th", "", d.id)).scope = "row";
      cell(tr, t("role_" + d.role) + (d.counter ? " · " + d.counter : ""));
      cell(tr, d.disabled ? t("disabled") : !d.seen ? t("never_seen") : d.online ? t("online") : t("offline"));
      cell(tr, (d.version || t("dash")) + (d.update ? " · " + d.update : ""));
      cell(tr, d.printer ? d.printer.map((p) => t(p)).join(", ") : t("dash"));
      cell(tr, d.outbox ? String(d.outbox) : t("dash"), "n");
      cell(tr, d.board || t("dash"));
      return tr;
    });
  }

  // render merges the parts of the view the hub sent (all of them when the
  // page connects, then those that changed) and draws their sections.
  const sections = {
    services: renderServices, unserved: renderServices, counters: renderCounters, agents_offline: renderCounters,
    tickets: renderTickets, more: renderTickets, devices: renderDevices, alerts: renderAlerts, log: renderAlerts,
    rollout: renderDevices, phone: renderPhone, screens: renderScreens, site: renderSite, destinations: renderDestinations,
  };
  function render(parts) {
    view = Object.assign(view || {}, parts);
    const draw = new Set();
    for (const k of Object.keys(parts)) if (sections[k]) draw.add(sections[k]);
    for (const f of draw) f(view);
  }

  // since moves one clock: a wait (past target, highlighted) or the time
  // an agent has been in their state. It writes only what changed: a
  // page's text set again costs its table a layout.
  function since(td) {
    const ms = now() - Date.parse(td.dataset.since);
    const text = dur(ms);
    if (td.firstChild === null || td.firstChild.nodeValue !== text) {
      if (td.firstChild && td.firstChild.nodeType === Node.TEXT_NODE) td.firstChild.nodeValue = text;
      else td.prepend(text);
    }
    if (td.dataset.target !== undefined) {
      const past = Number(td.dataset.target) > 0 && ms > Number(td.dataset.target) * 1000;
      if (td.classList.contains("breach") !== past) {
        td.classList.toggle("breach", past);
        td.title = past ? t("breach") : "";
        const tag = td.querySelector(".visually-hidden");
        if (past && !tag) td.appendChild(el("span", "visually-hidden", " (" + t("breach") + ")"));
        if (!past && tag) tag.remove();
      }
    }
  }
  function tick() {
    for (const td of document.querySelectorAll("[data-since]")) since(td);
  }
  setInterval(tick, 1000);

  function pauseAgent(c) {
    dialog("pause-dialog", (form) => {
      $("pause-h").textContent = t("pause_agent_title", c.agent_name);
      options(form.reason, site.reasons.map((x) => ({ id: x, name: x })));
    }, (form) => call("POST", "/api/v1/agents/" + enc(c.agent) + "/pause", { reason: form.reason.value }));
  }

  function signOut(c) {
    dialog("signout-dialog", () => {
      $("signout-h").textContent = t("signout_title", c.agent_name, c.name);
    }, () => call("POST", "/api/v1/agents/" + enc(c.agent) + "/signout", {}));
  }

  function transfer(tk) {
    let body;
    dialog("transfer-dialog", (form) => {
      $("transfer-h").textContent = t("transfer_title", tk.number);
      body = transferForm(form, targets(tk, ""));
    }, () => call("POST", "/api/v1/tickets/" + enc(tk.id) + "/transfer", body()));
  }

  function cancel(tk) {
    dialog("cancel-dialog", () => {
      $("cancel-h").textContent = t("cancel_title", tk.number);
    }, (form) => {
      const reason = form.reason.value.trim();
      return call("POST", "/api/v1/tickets/" + enc(tk.id) + "/cancel", reason ? { reason } : {});
    });
  }

  function message(form) {
    const m = {};
    if (form.fr.value.trim()) m.fr = form.fr.value.trim();
    if (form.en.value.trim()) m.en = form.en.value.trim();
    return m;
  }

  function closeService(s) {
    dialog("close-service-dialog", () => {
      $("close-service-h").textContent = t("close_service_title", s.name);
    }, (form) => call("POST", "/api/v1/services/" + enc(s.id) + "/close", { message: message(form) }));
  }

  // The implicit decisions to come: the open requests whose implicit
  // decision comes within the days chosen, with their citizens' names. They
  // are personal data of sectors: read on demand through the API, which
  // checks the supervisor's sectors and audits each name read — never in
  // the live stream every supervisor receives.
  const dayFmt = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "fr-FR", { timeZone: document.body.dataset.tz, day: "2-digit", month: "2-digit", year: "numeric" });
  const day = (iso) => dayFmt.format(new Date(iso));
  async function loadDue() {
    const days = Number($("due-days").value);
    if (!Number.isInteger(days) || days < 0 || days > 366) {
      fail(t("due_days_bad"));
      return;
    }
    const r = await api("GET", "/api/v1/requests/due?names=true&days=" + days);
    if (!r.ok) {
      if (r.code === "not_found") {
        $("due-count").textContent = "";
        empty($("due"), t("due_nofile"), 7);
      } else fail(r.message);
      return;
    }
    const reqs = r.data.requests;
    $("due-count").textContent = "(" + reqs.length + ")";
    if (!reqs.length) {
      empty($("due"), t("due_none", r.data.days), 7);
      return;
    }
    patch($("due"), reqs, (q) => q.id, (q) => {
      const im = q.implicit_decision || {};
      const tr = el("tr", im.at && Date.parse(im.at) < now() ? "bad" : "");
      tr.appendChild(el("th", "ref", q.id)).scope = "row";
      cell(tr, q.kind_label);
      cell(tr, q.office);
      cell(tr, day(q.received_at));
      const d = cell(tr, im.day ? day(im.day) : t("dash"));
      if (im.at && Date.parse(im.at) < now()) d.appendChild(el("span", "tag", " " + t("due_past")));
      if (im.pending) d.appendChild(el("span", "note", " " + t("due_pending")));
      if (im.provisional) d.appendChild(el("span", "note", " " + t("due_provisional")));
      cell(tr, t("regime_" + im.regime));
      cell(tr, q.citizen_name || t("dash"));
      return tr;
    });
  }
  // Read when the supervisor asks, not at load: the citizens' names are
  // read (and audited) one by one, and the page is often left open.
  $("due-form").onsubmit = (e) => { e.preventDefault(); loadDue(); };
  empty($("due"), t("due_ask"), 7);

  // renderSite takes the site's names and pause reasons again (an admin
  // changed them): the dialogs offer them.
  function renderSite(v) {
    G.setSite(v.site, "");
  }

  // renderScreens says what the waiting-room screens show now (in the
  // page's language, else French), and fills the dialog with it.
  function renderScreens(v) {
    const m = v.screens || {};
    const text = m[lang] || m.fr || Object.values(m)[0] || "";
    $("screens-now").textContent = text ? t("screens_now", text) : "";
    $("screens-now").hidden = !text;
  }
  $("b-screens").onclick = () => dialog("screens-dialog", (form) => {
    const m = (view && view.screens) || {};
    form.elements.fr.value = m.fr || "";
    form.elements.en.value = m.en || "";
  }, (form) => call("PUT", "/api/v1/board/message", { message: message(form) }));

  stream("/supervision/events?lang=" + lang, render);
})();
