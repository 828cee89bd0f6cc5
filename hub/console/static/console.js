// The staff pages' common script: their words, the hub's API called with
// the session's CSRF token, the live stream, times and durations, dialogs.
// Plain JavaScript, nothing fetched from elsewhere. Every text a person
// reads comes from the page's table (data-texts) and is set with
// textContent: a name or a note is never read as markup.
"use strict";
const G = (() => {
  const body = document.body;
  const texts = JSON.parse(body.dataset.texts);
  // The site's names, channels and pause reasons, as the page was made.
  const site = JSON.parse(body.dataset.site);
  const byID = (list) => Object.fromEntries(list.map((x) => [x.id, x.name]));
  const names = { services: byID(site.services), counters: byID(site.counters), agents: byID(site.agents) };
  let siteVersion = body.dataset.siteVersion;
  // setSite takes the site's names and reasons a stream sent because they
  // changed since the page was made (an admin renamed a service): site and
  // names are the same objects, refilled, so every script sees them.
  function setSite(s, version) {
    Object.assign(site, s);
    names.services = byID(site.services);
    names.counters = byID(site.counters);
    names.agents = byID(site.agents);
    siteVersion = version;
  }
  const tz = body.dataset.tz;
  const lang = body.dataset.lang;
  const skew = Number(body.dataset.now) - Date.now(); // the hub's clock minus the browser's
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  // t returns the text of key, its %s, %d and %02d replaced by args in order.
  function t(key, ...args) {
    let s = texts[key] ?? key;
    let i = 0;
    return s.replace(/%(02)?[sd]/g, (m, pad) => {
      const a = args[i++];
      return pad ? String(a).padStart(2, "0") : String(a);
    });
  }

  // words says a refusal of the hub, by its code.
  function words(code) {
    return texts["e_" + code] ?? t("e_other", code);
  }

  function now() { return Date.now() + skew; }

  // el makes an element, its class and its text (never markup).
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  // dur says a duration in minutes (hours and minutes past an hour).
  function dur(ms) {
    if (ms < 60000) return "< " + t("min", 1);
    const m = Math.floor(ms / 60000);
    return m < 60 ? t("min", m) : t("h_min", Math.floor(m / 60), m % 60);
  }

  // timer says a duration as m:ss (h:mm:ss past an hour).
  function timer(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, ss = String(s % 60).padStart(2, "0");
    return h ? h + ":" + String(m).padStart(2, "0") + ":" + ss : m + ":" + ss;
  }

  const hm = new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "fr-FR", { timeZone: tz, hour: "2-digit", minute: "2-digit" });
  // clock says the time of day of an RFC 3339 time, in the site's zone.
  function clock(iso) { return hm.format(new Date(iso)); }

  // key returns an idempotency key: a press of a button acts once, even
  // if the request is sent again. (crypto.randomUUID needs HTTPS.)
  function key() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return "console-" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  // api calls the hub: {ok, data} or {ok: false, code, message} in words.
  async function api(method, path, body) {
    const headers = { "X-CSRF-Token": csrf, "Idempotency-Key": key(), "Accept": "application/json" };
    const init = { method, headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      return { ok: false, code: "network", message: words("network") };
    }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (res.ok) return { ok: true, data };
    const code = (data && data.error && data.error.code) || (res.status === 404 ? "not_found" : String(res.status));
    // The refusal's code only: its message may repeat what was typed (a
    // phone number, a name), which stays out of the browser's console.
    if (data && data.error) console.info("hub refused:", code);
    return { ok: false, code, message: words(code) };
  }

  // stream follows the page's view: render gets each one. A lost stream
  // is said in the header and opened again; an expired session goes to
  // the sign-in page.
  function stream(url, render) {
    const state = document.getElementById("link-state");
    let es;
    const open = () => {
      es = new EventSource(url);
      es.onmessage = (e) => {
        if (state.textContent) state.textContent = "";
        state.classList.remove("lost");
        render(JSON.parse(e.data));
      };
      es.onerror = async () => {
        state.textContent = t("stream_lost");
        state.classList.add("lost");
        if (es.readyState !== EventSource.CLOSED) return; // the browser retries by itself
        const r = await fetch("/api/v1/session", { credentials: "same-origin" }).catch(() => null);
        if (r && r.status === 401) {
          location.href = "/login?expired=1&next=" + encodeURIComponent(location.pathname + location.search);
          return;
        }
        setTimeout(open, 2000);
      };
    };
    open();
  }

  // dialog opens the <dialog> id: setup(form) fills it; submit(form)
  // acts and returns a refusal's words, or nothing when done (the dialog
  // then closes). The focus goes back where it was, or, when done and
  // after is given, where after puts it.
  function dialog(id, setup, submit, after) {
    const d = document.getElementById(id);
    const form = d.querySelector("form");
    const err = d.querySelector(".dialog-error");
    const back = document.activeElement;
    err.textContent = "";
    form.reset();
    setup(form);
    let busy = false, ok = false;
    form.onsubmit = async (e) => {
      e.preventDefault();
      if (busy) return;
      busy = true;
      const msg = await submit(form);
      busy = false;
      if (msg) { err.textContent = msg; return; }
      ok = true;
      d.close();
    };
    d.querySelectorAll("[data-close]").forEach((b) => { b.onclick = () => d.close(); });
    d.onclose = () => {
      if (ok && after) after();
      else if (back && back.focus) back.focus();
    };
    d.showModal();
    const first = form.querySelector("select, input:not([type=hidden]):not([type=radio]), textarea, button[type=submit]");
    if (first) first.focus();
  }

  // options fills a <select> with refs ({id, name}).
  function options(select, refs) {
    select.replaceChildren(...refs.map((r) => { const o = el("option", "", r.name); o.value = r.id; return o; }));
  }

  // transferForm wires the transfer dialog's choice between a service and
  // a named agent, and returns the body of the transfer.
  function transferForm(form, targets) {
    options(form.querySelector("#to-service"), targets.services);
    options(form.querySelector("#to-agent"), targets.agents);
    const sync = () => {
      const toAgent = form.to.value === "agent";
      form.querySelector("#to-service-p").hidden = toAgent;
      form.querySelector("#to-agent-p").hidden = !toAgent;
    };
    form.querySelectorAll("input[name=to]").forEach((r) => { r.onchange = sync; });
    sync();
    return () => {
      const body = form.to.value === "agent" ? { agent: form.agent.value } : { service: form.service.value };
      const note = form.note.value.trim();
      if (note) body.note = note;
      return body;
    };
  }

  // announce says msg in the live region id (again, even if it is the same).
  function announce(id, msg) {
    const r = document.getElementById(id);
    r.textContent = "";
    setTimeout(() => { r.textContent = msg; }, 60);
  }

  // targets are where a ticket may be transferred: the other services
  // that take its channel, the agents other than but.
  function targets(tk, but) {
    return {
      services: site.services.filter((s) => s.id !== tk.service && s.channels.includes(tk.channel)),
      agents: site.agents.filter((a) => a.id !== but),
    };
  }

  return { t, words, now, el, dur, timer, clock, api, stream, dialog, options, transferForm, announce, lang, site, names, targets, setSite,
    siteVersion: () => siteVersion };
})();
