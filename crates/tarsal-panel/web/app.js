// The Tarsal touch panel. Plain script, no build step: the panel process
// embeds this file. The chair's state arrives as server-sent events
// (/api/live); every button is one POST to /api/…, which the panel turns
// into one D-Bus call. The service decides; this page only shows and asks.
"use strict";

const ACTIVE = ["preparing", "running", "paused", "finishing"];
const USES = ["foot_rollers", "calf_units", "sole_heat", "calf_heat", "bath"];
const FILL_LITRES = [10, 15, 17];
/** Parts that intensity and pause act on: without them both mean nothing. */
const MASSAGE = ["foot_rollers", "calf_units"];

const S = {
  language: "en",
  languages: ["en", "vi"],
  strings: {},
  english: {},
  link: null,
  programs: [],
  view: "programs",
  setup: null,
  staffInitials: "",
  keyboard: false,
  simulated: false,
  fillLitres: 15,
  pinConfigured: false,
  pinEntry: "",
  pinMessage: "",
  token: null,
  sanitationLog: [],
  serviceEvents: [],
  actuators: [],
  renderedKey: "",
  // The session on screen, so its end can be told: {id, name}.
  onScreen: null,
  // How the last session seen on this page ended: {name, outcome}.
  ended: null,
};

// ---------- text ----------

function t(key, vars) {
  let text = S.strings[key] ?? S.english[key] ?? key;
  for (const [name, value] of Object.entries(vars || {})) {
    text = text.split("{" + name + "}").join(String(value));
  }
  return text;
}

/** A translated text if the catalogue has `key`, else `fallback`. */
function tOr(key, fallback) {
  return S.strings[key] ?? (S.language === "en" ? fallback : S.english[key] ?? fallback);
}

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function minutes(seconds) {
  return Math.max(1, Math.round(seconds / 60));
}

function clock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
}

function number(value, digits) {
  return Number(value).toLocaleString(S.language === "vi" ? "vi-VN" : "en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function when(ms) {
  return new Date(ms).toLocaleString(S.language === "vi" ? "vi-VN" : "en-US", {
    dateStyle: "short",
    timeStyle: "short",
  });
}

async function loadLanguage(language) {
  const load = async (code) => (await fetch("/i18n/" + code + ".json")).json();
  if (!Object.keys(S.english).length) S.english = await load("en");
  S.strings = language === "en" ? S.english : await load(language);
  S.language = language;
  document.documentElement.lang = language;
  try { localStorage.setItem("tarsal.language", language); } catch (_) { /* private mode */ }
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  const next = S.languages[(S.languages.indexOf(language) + 1) % S.languages.length];
  const lang = document.getElementById("lang");
  lang.textContent = t("language.name." + next);
  lang.dataset.next = next;
  S.renderedKey = "";
  render();
}

// ---------- programs and their translations ----------

function program(id) {
  return S.programs.find((p) => p.id === id);
}

/** The program's texts in the panel's language, English where the plugin has none. */
function localized(p) {
  const tr = (p.translations || []).find((x) => x.language === S.language) || {};
  const pick = (list, i, field) => (list && list[i] && list[i][field]) || null;
  return {
    name: tr.name || p.name,
    description: tr.description || p.description,
    contraindications: p.contraindications.map((c, i) => (tr.contraindications || [])[i] || c),
    option(o) {
      const i = (tr.options || []).findIndex((x) => x.key === o.key);
      const x = i >= 0 ? tr.options[i] : {};
      return {
        label: x.label || o.label,
        description: x.description || o.description,
        choice(c, j) { return (x.choice_labels || [])[j] || c.label; },
      };
    },
    step(title) {
      const i = p.steps.findIndex((s) => s.title === title);
      return i >= 0 ? pick(tr.steps, i, "title") || title : title;
    },
    staffAction(text) {
      const i = p.steps.findIndex((s) => s.staff_action === text);
      return i >= 0 ? pick(tr.steps, i, "staff_action") || text : text;
    },
  };
}

async function loadPrograms() {
  try {
    S.programs = await api("GET", "/api/programs");
  } catch (e) {
    toast(e);
  }
  S.renderedKey = "";
  render();
}

// ---------- talking to the panel process ----------

class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

async function api(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (S.token) headers["X-Panel-Token"] = S.token;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (_) {
    throw new ApiError("PanelUnreachable", "", 0);
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    if (response.status === 401 && data.error === "PinRequired") S.token = null;
    throw new ApiError(data.error || "Failed", data.message || response.statusText, response.status);
  }
  return data;
}

/** Runs a chair action; a refusal becomes a toast in the panel's language. */
async function act(method, path, body) {
  try {
    return await api(method, path, body);
  } catch (e) {
    toast(e);
    return null;
  }
}

let toastTimer = null;
function toast(e, kind) {
  const el = document.getElementById("toast");
  let text;
  if (e instanceof ApiError) {
    const known = t("error." + e.code) !== "error." + e.code;
    const head = known ? t("error." + e.code) : t("error.Failed");
    // In English the service's own words carry the specifics (numbers,
    // names); other languages show the panel's words for the refusal.
    const detail = e.message && (S.language === "en" || !known) ? e.message : "";
    text = "<strong>" + esc(head) + "</strong>" + (detail ? "<span>" + esc(detail) + "</span>" : "");
  } else {
    text = "<strong>" + esc(String(e)) + "</strong>";
  }
  el.innerHTML = text;
  el.className = kind || "error";
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 6000);
}

function follow() {
  const source = new EventSource("/api/live");
  source.addEventListener("state", (m) => {
    S.link = JSON.parse(m.data);
    noteSessionEnd(S.link.chair);
    // The chair's programs changed (loaded after start-up, reloaded): list them again.
    const c = S.link && S.link.chair;
    if (c && c.programs_revision !== S.programsRevision) {
      S.programsRevision = c.programs_revision;
      loadPrograms();
    }
    render();
  });
  source.addEventListener("event", (m) => {
    const e = JSON.parse(m.data);
    if (e.severity === "warning") toast(tOr(e.code, e.message), "warning");
  });
  source.onerror = () => {
    S.link = { reachable: false, problem_code: "panel", problem: "", chair: null };
    render();
  };
}

/** Remembers the session on screen; when the chair reports it ended, says how. */
function noteSessionEnd(c) {
  if (!c) return;
  if (ACTIVE.includes(c.state) && c.session_id) {
    const p = program(c.program);
    S.onScreen = { id: c.session_id, program: c.program, fallback: c.program_name };
    if (p) S.onScreen.fallback = p.name;
    S.ended = null;
    return;
  }
  const [id, outcome] = c.last_session || [0, ""];
  if (S.onScreen && id === S.onScreen.id && outcome) {
    S.ended = { program: S.onScreen.program, fallback: S.onScreen.fallback, outcome };
    S.onScreen = null;
    if (!["hygiene", "service"].includes(S.view)) S.view = "programs";
    S.renderedKey = "";
  }
}

/** The program's name in the panel's language. */
function programName(id, fallback) {
  const p = program(id);
  return p ? localized(p).name : fallback;
}

// ---------- rendering ----------

function chair() {
  return S.link && S.link.chair;
}

/** Which screen shows: the chair's state first, then where staff went. */
function screen() {
  const c = chair();
  if (!c) return "offline";
  if (c.state === "fault") return "fault";
  if (c.state === "estop") return "estop";
  if (ACTIVE.includes(c.state) && !["hygiene", "service"].includes(S.view)) return "running";
  if (S.view === "setup" && !S.setup) return "programs";
  if (S.view === "running") return "programs";
  return S.view;
}

function render() {
  const c = chair();
  const offline = document.getElementById("offline");
  // Before the first state arrives there is nothing to say yet.
  offline.hidden = !S.link || !!c;
  document.getElementById("offline-detail").textContent = offlineDetail();
  const stateEl = document.getElementById("state");
  stateEl.dataset.state = c ? c.state : "";
  stateEl.textContent = c ? t("state." + c.state) : "…";
  document.getElementById("water").textContent = c
    ? t("status.water", { temperature: number(c.water_temperature_c, 1), litres: number(c.water_level_l, 1) })
    : "";
  const active = !!c && ACTIVE.includes(c.state);
  document.getElementById("stopbar").hidden = !active;
  document.body.classList.toggle("session", active);

  const name = screen();
  for (const b of document.querySelectorAll("#nav [data-view]")) {
    b.classList.toggle("current", b.dataset.view === name || (name === "setup" && b.dataset.view === "programs"));
  }
  const main = document.getElementById("screen");
  const key = name + "|" + S.language + "|" + screenKey(name, c);
  if (key !== S.renderedKey) {
    S.renderedKey = key;
    main.dataset.screen = name;
    main.innerHTML = SCREENS[name] ? SCREENS[name](c) : "";
    for (const el of main.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  }
  patch(c);
}

/** Why the chair is not reachable, in the panel's language. The service's
 * exact English stays for English screens (and the panel's log). */
function offlineDetail() {
  if (!S.link || S.link.chair) return "";
  const code = S.link.problem_code || "connecting";
  const words = t("offline." + code);
  const exact = ["no_bus", "not_running"].includes(code) && S.language === "en" && S.link.problem;
  return exact ? words + " (" + S.link.problem + ")" : words;
}

/** What, when it changes, needs the screen drawn again (live numbers are patched). */
function screenKey(name, c) {
  if (!c) return "";
  switch (name) {
    case "programs":
      return [S.programs.length, c.sanitation_owed, c.sanitation_required, c.state, c.programs_loading,
        (c.program_problems || []).length, JSON.stringify(S.ended)].join();
    case "setup":
      return JSON.stringify(S.setup) + c.state + c.sanitation_required;
    case "running":
      return [c.state, c.program, c.step, c.intensity, c.heat, c.awaiting_staff, c.staff_action, S.programs.length,
        S.keyboard, S.staffInitials].join("|");
    case "fault":
      return JSON.stringify(c.faults);
    case "estop":
      return c.emergency_stop_source;
    case "hygiene":
      return [c.state, c.manual_bath, c.sanitation_owed, c.sanitation_required, S.fillLitres, JSON.stringify(S.sanitationLog)].join("|");
    case "service":
      return [S.token ? "open" : "locked", S.pinEntry.length, S.pinMessage, c.state, c.feet_present, S.simulated,
        JSON.stringify(c.program_problems || []),
        JSON.stringify(S.actuators), JSON.stringify(S.serviceEvents)].join("|");
    default:
      return "";
  }
}

/** Numbers that change every moment, written in place. */
function patch(c) {
  if (!c) return;
  const set = (id, text) => { const el = document.getElementById(id); if (el) el.textContent = text; };
  set("remaining", clock(c.remaining_s));
  set("elapsed", clock(c.elapsed_s));
  const bar = document.getElementById("progress");
  if (bar) {
    bar.style.width = Math.round(c.progress * 100) + "%";
    bar.parentElement.setAttribute("aria-valuenow", String(Math.round(c.progress * 100)));
  }
  set("sole-pad", number(c.sole_pad_temperature_c, 1) + " °C");
  set("calf-pad", number(c.calf_pad_temperature_c, 1) + " °C");
  set("bath-level", number(c.water_level_l, 1) + " L");
  set("bath-temperature", number(c.water_temperature_c, 1) + " °C");
}

/** The salon's rule is on and the bath is owed a cycle: only sanitize may start. */
function gateClosed(c) {
  return c.sanitation_required && c.sanitation_owed;
}

function usesChips(p) {
  return USES.filter((u) => p.uses.includes(u))
    .map((u) => '<span class="chip chip-' + u + '">' + esc(t("uses." + u)) + "</span>").join("");
}

const SCREENS = {
  offline: () => "",

  programs(c) {
    const gate = gateClosed(c);
    let html = "";
    if (S.ended) {
      const good = S.ended.outcome === "completed";
      html += '<div class="banner ' + (good ? "done" : "note") + '" id="session-ended" data-outcome="' + esc(S.ended.outcome) + '"><p>' +
        esc(t("ended." + S.ended.outcome, { program: programName(S.ended.program, S.ended.fallback) })) + "</p>" +
        '<button type="button" id="dismiss-ended" data-action="dismiss-ended">' + esc(t("action.ok")) + "</button></div>";
    }
    if (gate) {
      html += '<div class="banner gate" id="sanitation-gate"><p>' + esc(t("hygiene.gate")) + '</p>' +
        '<button type="button" data-action="go" data-view="hygiene">' + esc(t("hygiene.go")) + "</button></div>";
    } else if (c.sanitation_owed) {
      html += '<div class="banner note"><p>' + esc(t("hygiene.owed")) + "</p></div>";
    }
    const problems = c.program_problems || [];
    if (problems.length) {
      html += '<div class="banner note" id="program-problems"><p>' +
        esc(t("programs.not_loaded", { count: problems.length })) + "</p></div>";
    }
    if (!S.programs.length) return html + '<p class="empty">' + esc(t("programs.loading")) + "</p>";
    if (c.programs_loading) html += '<p class="empty">' + esc(t("programs.loading")) + "</p>";
    html += '<div class="cards">';
    for (const p of S.programs) {
      const l = localized(p);
      const blocked = gate && p.id !== "sanitize";
      html += '<button type="button" class="program' + (blocked ? " blocked" : "") + '" data-action="choose" data-program="' +
        esc(p.id) + '"><h3>' + esc(l.name) + '</h3><p class="description">' + esc(l.description) + '</p>' +
        '<p class="meta"><span class="duration">' + esc(t("programs.minutes", { minutes: minutes(p.duration_s) })) +
        "</span>" + usesChips(p) + "</p></button>";
    }
    return html + "</div>";
  },

  setup() {
    const p = program(S.setup.program);
    if (!p) return "";
    const l = localized(p);
    const s = S.setup;
    let html = '<div class="setup"><div class="setup-head"><button type="button" class="back" data-action="go" data-view="programs">' +
      esc(t("action.back")) + "</button><h2>" + esc(l.name) + "</h2></div>";
    html += '<div class="setup-body"><section class="settings">';
    if (massages(p)) html += row(t("setup.intensity"), segmented("intensity", [1, 2, 3, 4, 5].map((n) => [n, String(n)]), s.intensity));
    if (p.uses.some((u) => u.endsWith("_heat"))) html += row(t("setup.heat"), toggle("heat", s.heat));
    if (p.uses.includes("bath")) html += row(t("setup.bath"), toggle("bath", s.bath));
    for (const o of p.options) {
      const lo = l.option(o);
      const kind = o.kind;
      let control = "";
      if (kind.type === "int") {
        control = '<div class="stepper"><button type="button" data-action="option-step" data-key="' + esc(o.key) + '" data-delta="-1">−</button>' +
          '<output id="option-' + esc(o.key) + '">' + esc(o.key === "minutes" ? t("programs.minutes", { minutes: s.options[o.key] }) : s.options[o.key]) + "</output>" +
          '<button type="button" data-action="option-step" data-key="' + esc(o.key) + '" data-delta="1">+</button></div>';
      } else if (kind.type === "choice") {
        control = segmented("option:" + o.key, kind.choices.map((c, j) => [c.value, lo.choice(c, j)]), s.options[o.key]);
      } else if (kind.type === "bool") {
        control = toggle("option:" + o.key, s.options[o.key]);
      }
      html += row(lo.label, control, lo.description);
    }
    html += "</section>";
    if (l.contraindications.length) {
      html += '<section class="contraindications"><h3>' + esc(t("setup.contraindications")) + "</h3><ul>" +
        l.contraindications.map((c) => "<li>" + esc(c) + "</li>").join("") + "</ul></section>";
    }
    const ready = s.confirmed || !l.contraindications.length;
    // What moves the session forward stays in the footer, always on screen.
    html += '</div><div class="setup-foot">';
    if (l.contraindications.length) {
      html += '<button type="button" id="confirm-contraindications" class="check' + (s.confirmed ? " on" : "") +
        '" data-action="confirm-contraindications" aria-pressed="' + s.confirmed + '">' + esc(t("setup.none_apply")) + "</button>";
    }
    html += '<span class="duration">' + esc(t("programs.minutes", { minutes: setupMinutes(p, s) })) +
      '</span><button type="button" id="start" class="start" data-action="start"' + (ready ? "" : " disabled") + ">" +
      esc(t("action.start")) + "</button></div></div>";
    return html;
  },

  running(c) {
    const p = program(c.program);
    const l = p ? localized(p) : null;
    const name = l ? l.name : c.program_name;
    const step = l ? l.step(c.step) : c.step;
    let html = '<div class="running"><div class="now"><h2 id="program-name">' + esc(name) + "</h2>";
    html += '<p class="step" id="step">' + esc(c.step_count ? t("running.step", { n: c.step_index + 1, count: c.step_count }) : "") +
      " <strong>" + esc(step) + "</strong></p>";
    html += '<div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100"><div id="progress"></div></div>';
    html += '<p class="times"><span><span id="remaining"></span> ' + esc(t("running.left")) + '</span><span class="elapsed">' +
      esc(t("running.elapsed")) + ' <span id="elapsed"></span></span></p>';
    if (c.state === "paused") html += '<p class="paused-note">' + esc(t("running.paused")) + "</p>";
    if (c.state === "finishing") html += '<p class="paused-note">' + esc(t("running.finishing")) + "</p>";
    html += "</div>";
    if (c.awaiting_staff) {
      const action = l ? l.staffAction(c.staff_action) : c.staff_action;
      html += '<div class="staff" id="staff-step"><h3>' + esc(t("running.staff_step")) + '</h3><p class="staff-text">' + esc(action) + "</p>" +
        '<div class="staff-confirm"><span>' + esc(t("running.initials")) + '</span><button type="button" id="initials" class="initials" data-action="keyboard">' +
        esc(S.staffInitials || t("running.tap_initials")) + '</button><button type="button" id="confirm-step" class="start" data-action="confirm-step">' +
        esc(t("action.confirm")) + "</button></div></div>";
      if (S.keyboard) html += keyboard();
    } else {
      html += '<div class="controls">';
      const massage = !p || massages(p);
      if (massage) {
        html += '<div class="control"><span class="label">' + esc(t("setup.intensity")) + '</span><div class="stepper big">' +
          '<button type="button" id="intensity-down" data-action="intensity" data-delta="-1"' + (c.intensity <= 1 ? " disabled" : "") + ">−</button>" +
          '<output id="intensity">' + c.intensity + "</output>" +
          '<button type="button" id="intensity-up" data-action="intensity" data-delta="1"' + (c.intensity >= 5 ? " disabled" : "") + ">+</button></div></div>";
      }
      if (p && p.uses.some((u) => u.endsWith("_heat"))) {
        html += '<div class="control"><span class="label">' + esc(t("setup.heat")) + "</span>" +
          '<button type="button" id="heat" class="toggle' + (c.heat ? " on" : "") + '" data-action="heat" aria-pressed="' + c.heat + '">' +
          esc(c.heat ? t("setup.on") : t("setup.off")) + '</button><span class="reading" id="sole-pad"></span></div>';
      }
      if (c.state === "paused") {
        html += '<button type="button" id="resume" class="wide" data-action="resume">' + esc(t("action.resume")) + "</button>";
      } else if (c.state === "running" && massage) {
        html += '<button type="button" id="pause" class="wide" data-action="pause">' + esc(t("action.pause")) + "</button>";
      }
      html += "</div>";
    }
    return html + "</div>";
  },

  fault(c) {
    let html = '<div class="alarm"><h2>' + esc(t("alarm.title")) + '</h2><ul id="fault-list">';
    for (const f of c.faults) {
      // The service's English text is exact; other languages use the panel's
      // words for the fault kind and keep the exact text as detail.
      const translated = S.language !== "en" && S.strings[f.code];
      html += '<li data-code="' + esc(f.code) + '"><p class="what">' + esc(translated ? S.strings[f.code] : f.message) + "</p>" +
        '<p class="todo"><strong>' + esc(t("alarm.todo")) + "</strong> " +
        esc(translated && S.strings[f.code + ".advice"] ? S.strings[f.code + ".advice"] : f.advice) + "</p>" +
        (translated ? '<details class="detail"><summary>' + esc(t("alarm.technician_detail")) + "</summary><p>" +
          esc(f.message) + "</p></details>" : "") + "</li>";
    }
    html += "</ul><p>" + esc(t("alarm.acknowledge_hint")) + '</p><button type="button" id="reset" class="start" data-action="reset">' +
      esc(t("action.acknowledge")) + "</button></div>";
    return html;
  },

  estop(c) {
    return '<div class="alarm"><h2>' + esc(t("estop.title")) + "</h2><p>" +
      esc(t("estop.source." + (c.emergency_stop_source || "local"))) + "</p><p>" + esc(t("estop.todo")) +
      '</p><button type="button" id="reset" class="start" data-action="reset">' + esc(t("action.reset")) + "</button></div>";
  },

  hygiene(c) {
    const idle = c.state === "idle";
    let html = '<div class="hygiene"><section class="bath"><h2>' + esc(t("hygiene.bath")) + "</h2>" +
      '<p class="readings"><span>' + esc(t("hygiene.level")) + ' <strong id="bath-level"></strong></span><span>' +
      esc(t("hygiene.temperature")) + ' <strong id="bath-temperature"></strong></span></p>';
    if (c.manual_bath) html += '<p class="note">' + esc(t("hygiene.manual." + c.manual_bath)) + "</p>";
    html += '<div class="row-buttons">' + segmented("fill-litres", FILL_LITRES.map((n) => [n, n + " L"]), S.fillLitres) + "</div>";
    html += '<div class="row-buttons"><button type="button" id="fill" data-action="fill"' + (idle ? "" : " disabled") + ">" +
      esc(t("hygiene.fill", { litres: S.fillLitres })) + '</button><button type="button" id="drain" data-action="drain"' + (idle ? "" : " disabled") + ">" +
      esc(t("hygiene.drain")) + '</button><button type="button" id="stop-water" data-action="stop-water">' + esc(t("hygiene.stop_water")) + "</button></div></section>";
    html += '<section class="sanitize"><h2>' + esc(t("hygiene.sanitize")) + "</h2>";
    html += "<p>" + esc(gateClosed(c) ? t("hygiene.gate") : c.sanitation_owed ? t("hygiene.owed") : t("hygiene.clean")) + "</p>";
    html += '<div class="row-buttons"><button type="button" id="sanitize-after-client" class="start" data-action="sanitize" data-cycle="after-client"' +
      (idle ? "" : " disabled") + ">" + esc(t("hygiene.after_client")) + '</button><button type="button" id="sanitize-end-of-day" data-action="sanitize" data-cycle="end-of-day"' +
      (idle ? "" : " disabled") + ">" + esc(t("hygiene.end_of_day")) + "</button></div></section>";
    html += '<section class="log"><h2>' + esc(t("hygiene.log")) + '</h2><table id="sanitation-log"><thead><tr><th>' +
      [t("log.when"), t("log.cycle"), t("log.result"), t("log.initials")].map(esc).join("</th><th>") + "</th></tr></thead><tbody>";
    for (const r of S.sanitationLog) {
      html += "<tr><td>" + esc(when(r.at_ms)) + "</td><td>" + esc(t("log.cycle." + r.cycle)) + "</td><td>" +
        (r.complete ? '<span class="ok">' + esc(t("log.complete", { minutes: number(r.circulation_minutes, 0) })) + "</span>"
          : '<span class="bad">' + esc(t("log.incomplete")) + "</span> " + esc(shortfall(r))) +
        "</td><td>" + esc(r.initials.join(", ")) + "</td></tr>";
    }
    if (!S.sanitationLog.length) html += '<tr><td colspan="4">' + esc(t("log.empty")) + "</td></tr>";
    html += '</tbody></table><a class="button" href="/api/sanitation-log.csv" download>' + esc(t("hygiene.export")) + "</a></section></div>";
    return html;
  },

  service(c) {
    if (!S.pinConfigured) return '<div class="pin"><p>' + esc(t("service.no_pin")) + "</p></div>";
    if (!S.token) {
      let keys = "";
      for (const k of ["1", "2", "3", "4", "5", "6", "7", "8", "9", "back", "0", "ok"]) {
        const label = k === "back" ? "⌫" : k === "ok" ? t("action.ok") : k;
        keys += '<button type="button" class="key" data-action="pin-key" data-key="' + k + '">' + esc(label) + "</button>";
      }
      return '<div class="pin"><h2>' + esc(t("service.enter_pin")) + '</h2><p id="pin-dots" class="dots">' +
        ("●".repeat(S.pinEntry.length) || "&nbsp;") + '</p><p class="pin-message" id="pin-message">' + esc(S.pinMessage) +
        '</p><div class="keypad">' + keys + "</div></div>";
    }
    const inService = c.state === "service";
    let html = '<div class="service"><div class="row-buttons">' +
      '<button type="button" id="service-mode" data-action="service-mode" data-on="' + !inService + '">' +
      esc(inService ? t("service.leave") : t("service.enter")) + "</button>" +
      '<button type="button" data-action="all-off">' + esc(t("service.all_off")) + "</button>" +
      '<button type="button" data-action="service-refresh">' + esc(t("service.refresh")) + "</button>" +
      '<button type="button" data-action="lock">' + esc(t("service.lock")) + "</button>" +
      (S.simulated ? '<button type="button" id="sim-feet" data-action="sim-feet" data-on="' + !c.feet_present + '">' +
      esc(c.feet_present ? t("service.sim_feet_off") : t("service.sim_feet_on")) + "</button>" : "") + "</div>";
    html += "<h2>" + esc(t("service.actuators")) + '</h2><table class="actuators"><tbody>';
    for (const a of S.actuators) {
      html += "<tr><td>" + esc(a.name) + '</td><td class="mono">' + esc(Object.entries(a.output).map(([k, v]) => k + "=" + v).join(" ")) +
        '</td><td class="mono">' + esc(Object.entries(a.readings).map(([k, v]) => k + "=" + v).join(" ")) + "</td></tr>";
    }
    html += "</tbody></table>";
    const problems = c.program_problems || [];
    if (problems.length) {
      html += "<h2>" + esc(t("service.program_problems")) + '</h2><ul class="events" id="program-problem-list">';
      for (const [file, reason] of problems) {
        html += '<li class="warning"><span class="mono">' + esc(file) + "</span> " + esc(reason) + "</li>";
      }
      html += "</ul>";
    }
    html += "<h2>" + esc(t("service.events")) + '</h2><ul class="events">';
    for (const e of S.serviceEvents.slice().reverse()) {
      html += '<li class="' + esc(e.severity) + '"><span>' + esc(when(e.at_ms)) + "</span> " + esc(tOr(e.code, e.message)) + "</li>";
    }
    return html + "</ul></div>";
  },
};

/** Letters for staff initials: the kiosk has no keyboard. */
function keyboard() {
  let keys = "";
  for (const letter of "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
    keys += '<button type="button" class="key" data-action="letter" data-key="' + letter + '">' + letter + "</button>";
  }
  keys += '<button type="button" class="key" data-action="letter" data-key="back">⌫</button>' +
    '<button type="button" class="key done" id="initials-done" data-action="keyboard">' + esc(t("action.ok")) + "</button>";
  return '<div class="keyboard" id="keyboard"><p class="typed">' + (esc(S.staffInitials) || "&nbsp;") + '</p><div class="letters">' + keys + "</div></div>";
}

function row(label, control, hint) {
  return '<div class="setting"><div class="setting-label"><span>' + esc(label) + "</span>" +
    (hint ? '<small>' + esc(hint) + "</small>" : "") + "</div>" + control + "</div>";
}

function segmented(name, items, current) {
  return '<div class="segmented" data-name="' + esc(name) + '">' + items.map(([value, label]) =>
    '<button type="button" data-action="pick" data-name="' + esc(name) + '" data-value="' + esc(value) + '" class="' +
    (String(value) === String(current) ? "on" : "") + '" aria-pressed="' + (String(value) === String(current)) + '">' +
    esc(label) + "</button>").join("") + "</div>";
}

function toggle(name, on) {
  return '<button type="button" class="toggle' + (on ? " on" : "") + '" data-action="toggle" data-name="' + esc(name) +
    '" aria-pressed="' + on + '">' + esc(on ? t("setup.on") : t("setup.off")) + "</button>";
}

/** Whether the program moves the client's feet or calves (intensity and pause act on those). */
function massages(p) {
  return MASSAGE.some((u) => p.uses.includes(u));
}

/** What an incomplete sanitize cycle lacked: the service's words in English,
 * the panel's words from the record's facts otherwise. */
function shortfall(r) {
  if (S.language === "en") return r.missing;
  const parts = [t("log.missing.circulation", { minutes: number(r.circulation_minutes, 0) })];
  if (!r.drained) parts.push(t("log.missing.not_drained"));
  return parts.join("; ");
}

function setupMinutes(p, s) {
  const option = p.options.find((o) => o.key === "minutes" && o.kind.type === "int");
  return option ? s.options.minutes : minutes(p.duration_s);
}

// ---------- what buttons do ----------

const ACTIONS = {
  go(el) {
    S.view = el.dataset.view;
    if (S.view === "programs") loadPrograms();
    if (S.view === "hygiene") loadSanitationLog();
    if (S.view === "service" && S.token) loadService();
    S.renderedKey = "";
    render();
  },
  language(el) { loadLanguage(el.dataset.next); },
  "dismiss-ended"() {
    S.ended = null;
    render();
  },
  estop() { act("POST", "/api/estop"); },
  stop() { act("POST", "/api/stop"); },
  choose(el) {
    const p = program(el.dataset.program);
    const c = chair();
    if (!p) return;
    if (c && gateClosed(c) && p.id !== "sanitize") {
      toast(t("hygiene.gate"), "warning");
      return;
    }
    const options = {};
    for (const o of p.options) options[o.key] = o.kind.default;
    S.setup = {
      program: p.id,
      intensity: 3,
      heat: p.uses.some((u) => u.endsWith("_heat")),
      bath: p.uses.includes("bath"),
      options,
      confirmed: false,
    };
    S.view = "setup";
    render();
  },
  pick(el) {
    const name = el.dataset.name;
    if (name === "intensity") S.setup.intensity = Number(el.dataset.value);
    else if (name === "fill-litres") S.fillLitres = Number(el.dataset.value);
    else if (name.startsWith("option:")) S.setup.options[name.slice(7)] = el.dataset.value;
    render();
  },
  toggle(el) {
    const name = el.dataset.name;
    if (name.startsWith("option:")) S.setup.options[name.slice(7)] = !S.setup.options[name.slice(7)];
    else S.setup[name] = !S.setup[name];
    render();
  },
  "option-step"(el) {
    const p = program(S.setup.program);
    const o = p.options.find((x) => x.key === el.dataset.key);
    const value = Number(S.setup.options[o.key]) + Number(el.dataset.delta);
    S.setup.options[o.key] = Math.min(o.kind.max, Math.max(o.kind.min, value));
    render();
  },
  "confirm-contraindications"() {
    S.setup.confirmed = !S.setup.confirmed;
    render();
  },
  async start() {
    const s = S.setup;
    const ok = await act("POST", "/api/start", {
      program: s.program,
      intensity: s.intensity,
      heat: s.heat,
      bath: s.bath,
      options: s.options,
      contraindications_confirmed: s.confirmed,
    });
    if (ok) {
      S.setup = null;
      S.view = "programs";
    }
  },
  intensity(el) {
    const c = chair();
    act("POST", "/api/intensity", { level: c.intensity + Number(el.dataset.delta) });
  },
  heat() { act("POST", "/api/heat", { on: !chair().heat }); },
  pause() { act("POST", "/api/pause"); },
  resume() { act("POST", "/api/resume"); },
  keyboard() {
    S.keyboard = !S.keyboard;
    render();
  },
  letter(el) {
    if (el.dataset.key === "back") S.staffInitials = S.staffInitials.slice(0, -1);
    else if (S.staffInitials.length < 4) S.staffInitials += el.dataset.key;
    render();
  },
  async "confirm-step"() {
    S.keyboard = false;
    const ok = await act("POST", "/api/confirm", { initials: S.staffInitials });
    if (ok) loadSanitationLog();
  },
  reset() { act("POST", "/api/reset"); },
  fill() { act("POST", "/api/bath/fill", { litres: S.fillLitres }); },
  drain() { act("POST", "/api/bath/drain"); },
  "stop-water"() { act("POST", "/api/bath/stop"); },
  async sanitize(el) {
    const ok = await act("POST", "/api/start", {
      program: "sanitize",
      options: { cycle: el.dataset.cycle },
      contraindications_confirmed: true,
    });
    if (ok) S.view = "programs";
    render();
  },
  async "pin-key"(el) {
    const k = el.dataset.key;
    if (k === "back") S.pinEntry = S.pinEntry.slice(0, -1);
    else if (k !== "ok" && S.pinEntry.length < 12) S.pinEntry += k;
    if (k === "ok") {
      try {
        const r = await api("POST", "/api/unlock", { pin: S.pinEntry });
        S.token = r.token;
        S.pinMessage = "";
        loadService();
      } catch (e) {
        S.pinMessage = e instanceof ApiError ? t("error." + e.code) + (e.code === "PinWrong" ? "" : " " + e.message) : String(e);
      }
      S.pinEntry = "";
    }
    render();
  },
  async "service-mode"(el) {
    await serviceAct("POST", "/api/service/mode", { on: el.dataset.on === "true" });
  },
  async "all-off"() { await serviceAct("POST", "/api/service/all-off"); },
  "service-refresh"() { loadService(); },
  async "sim-feet"(el) {
    await serviceAct("POST", "/api/service/simulator/feet", { on: el.dataset.on === "true" });
  },
  lock() {
    act("POST", "/api/lock");
    S.token = null;
    S.view = "programs";
    render();
  },
};

async function serviceAct(method, path, body) {
  await act(method, path, body);
  loadService();
}

async function loadSanitationLog() {
  try {
    S.sanitationLog = await api("GET", "/api/sanitation-log?limit=20");
  } catch (e) {
    toast(e);
  }
  render();
}

async function loadService() {
  try {
    S.actuators = await api("GET", "/api/service/actuators");
    S.serviceEvents = await api("GET", "/api/service/events?limit=30");
    S.simulated = (await api("GET", "/api/service/simulator")).simulated;
  } catch (e) {
    if (!S.token) S.pinMessage = t("error.PinRequired");
    else toast(e);
  }
  render();
}

document.addEventListener("click", (event) => {
  // A tap on a pop-up puts it away.
  if (event.target.closest("#toast")) {
    document.getElementById("toast").hidden = true;
    return;
  }
  const el = event.target.closest("[data-action]");
  if (!el || el.disabled) return;
  const action = ACTIONS[el.dataset.action];
  if (action) action(el);
});

// A technician's unlock ends when the panel sits untouched; the server also
// times it out.
let idleTimer = null;
document.addEventListener("pointerdown", () => {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    if (S.token) ACTIONS.lock();
  }, 5 * 60 * 1000);
});

(async function boot() {
  try {
    const info = await api("GET", "/api/panel");
    S.languages = info.languages;
    S.pinConfigured = info.pin_configured;
    let language = info.language;
    try { language = localStorage.getItem("tarsal.language") || language; } catch (_) { /* private mode */ }
    await loadLanguage(S.languages.includes(language) ? language : info.language);
  } catch (e) {
    await loadLanguage("en");
  }
  follow();
  loadPrograms();
})();
