// The Attaché sandbox page: a small Discord-like client over the sandbox API (bot/sandbox/web.py).
"use strict";

const S = { world: null, member: null, channel: null, view: null, entries: [], command: null, active: -1,
  modal: null, refreshing: false, again: false, choices: {} };
const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...kids) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "html") node.innerHTML = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined) node.append(kid);
  return node;
}

async function api(path, body) {
  const init = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body) };
  const resp = await fetch(path, init);
  let data = {};
  try { data = await resp.json(); } catch (e) { data = { ok: false, error: `HTTP ${resp.status}` }; }
  if (!resp.ok || data.ok === false) throw new Error(data.error || `HTTP ${resp.status}`);
  return data;
}

function notice(text, ok) {
  const n = $("#notice");
  n.textContent = text || "";
  n.classList.toggle("ok", !!ok);
}

// ---------------------------------------------------------------- text rendering
const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;",
  '"': "&quot;", "'": "&#39;" }[c]));

function sandboxNow() { return S.view ? new Date(S.view.clock.now) : new Date(); }

function formatTs(seconds, style) {
  const d = new Date(seconds * 1000);
  const o = {
    t: { hour: "numeric", minute: "2-digit" },
    T: { hour: "numeric", minute: "2-digit", second: "2-digit" },
    d: { year: "numeric", month: "2-digit", day: "2-digit" },
    D: { year: "numeric", month: "long", day: "numeric" },
    f: { year: "numeric", month: "long", day: "numeric", hour: "numeric", minute: "2-digit" },
    F: { weekday: "long", year: "numeric", month: "long", day: "numeric", hour: "numeric", minute: "2-digit" },
  };
  if (style === "R") {
    const diff = (d - sandboxNow()) / 1000;
    const units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600],
      ["minute", 60], ["second", 1]];
    const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
    for (const [unit, size] of units) {
      if (Math.abs(diff) >= size || unit === "second") return rtf.format(Math.round(diff / size), unit);
    }
  }
  return new Intl.DateTimeFormat(undefined, o[style] || o.f).format(d);
}

function markdown(text) {
  let h = escapeHtml(text);
  const blocks = [];
  h = h.replace(/```(?:\w*\n)?([\s\S]*?)```/g, (m, code) => { blocks.push(code); return `\u0000${blocks.length - 1}\u0000`; });
  h = h.replace(/`([^`\n]+)`/g, "<code>$1</code>");
  h = h.replace(/&lt;t:(-?\d+)(?::([tTdDfFR]))?&gt;/g, (m, s, style) => {
    const iso = new Date(Number(s) * 1000).toISOString();
    return `<time class="ts" datetime="${iso}" title="${escapeHtml(new Date(Number(s) * 1000).toString())}">${escapeHtml(formatTs(Number(s), style || "f"))}</time>`;
  });
  h = h.replace(/&lt;@!?(\d+)&gt;/g, (m, id) => `<span class="mention">@${escapeHtml(userName(id))}</span>`);
  h = h.replace(/&lt;@&amp;(\d+)&gt;/g, (m, id) => `<span class="mention">@${escapeHtml(roleName(id))}</span>`);
  h = h.replace(/&lt;#(\d+)&gt;/g, (m, id) => `<span class="mention">#${escapeHtml(channelName(id))}</span>`);
  h = h.replace(/&lt;\/([\w\- ]+):\d+&gt;/g, (m, name) => `<span class="mention">/${name}</span>`);
  h = h.replace(/\[([^\]\n]+)\]\((https?:\/\/[^)\s]+)\)/g, '<a href="$2" target="_blank" rel="noopener">$1</a>');
  h = h.replace(/\*\*([^*\n]+)\*\*/g, "<strong>$1</strong>");
  h = h.replace(/__([^_\n]+)__/g, "<u>$1</u>");
  h = h.replace(/(^|[^*])\*([^*\n]+)\*/g, "$1<em>$2</em>");
  h = h.replace(/(^|[\s(])_([^_\n]+)_(?=[\s).,!?]|$)/g, "$1<em>$2</em>");
  h = h.replace(/~~([^~\n]+)~~/g, "<s>$1</s>");
  h = h.replace(/^#{1,3} (.*)$/gm, "<strong>$1</strong>");
  h = h.replace(/^-# (.*)$/gm, "<small>$1</small>");
  h = h.replace(/^&gt; (.*)$/gm, "<blockquote>$1</blockquote>");
  h = h.replace(/\u0000(\d+)\u0000/g, (m, i) => `<pre>${blocks[Number(i)]}</pre>`);
  return h;
}

function userName(id) {
  const m = S.world && S.world.members.find((x) => x.id === id);
  if (m) return m.name;
  if (S.world && S.world.bot.id === id) return S.world.bot.name;
  return "unknown member";
}
function roleName(id) { const r = S.world && S.world.roles.find((x) => x.id === id); return r ? r.name : "role"; }
function channelName(id) { const c = S.view && S.view.channels.find((x) => x.id === id); return c ? c.name : "channel"; }

// ---------------------------------------------------------------- messages
function colour(n) { return n === undefined || n === null ? null : "#" + Number(n).toString(16).padStart(6, "0"); }

function attachmentUrl(msg, url) {
  if (url && url.startsWith("attachment://")) {
    const a = msg.attachments.find((x) => x.filename === url.slice(13));
    return a ? a.url : null;
  }
  return url;
}

function renderEmbed(msg, e) {
  const box = el("div", { class: "embed" });
  if (colour(e.color)) box.style.borderLeftColor = colour(e.color);
  if (e.author && e.author.name) box.append(el("div", { class: "e-author", text: e.author.name }));
  if (e.title) {
    const t = el("div", { class: "e-title", html: markdown(e.title) });
    box.append(e.url ? el("a", { href: e.url, target: "_blank", rel: "noopener" }, t) : t);
  }
  if (e.description) box.append(el("div", { class: "content", html: markdown(e.description) }));
  if (e.fields && e.fields.length) {
    const grid = el("div", { class: "fields" });
    for (const f of e.fields) {
      grid.append(el("div", { class: "field" + (f.inline ? " inline" : "") },
        el("div", { class: "f-name", html: markdown(f.name) }), el("div", { class: "content", html: markdown(f.value) })));
    }
    box.append(grid);
  }
  for (const key of ["thumbnail", "image"]) {
    const src = e[key] && attachmentUrl(msg, e[key].url);
    if (src) box.append(el("img", { src, alt: `${key} of the embed` }));
  }
  const foot = [];
  if (e.footer && e.footer.text) foot.push(e.footer.text);
  if (e.timestamp) foot.push(new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(new Date(e.timestamp)));
  if (foot.length) box.append(el("div", { class: "e-footer", text: foot.join(" • ") }));
  return box;
}

function renderComponent(msg, c) {
  if (c.type === 1) return el("div", { class: "row" }, (c.components || []).map((x) => renderComponent(msg, x)));
  if (c.type === 2) {
    const label = [c.emoji && c.emoji.name, c.label].filter(Boolean).join(" ") || "button";
    if (c.style === 5) return el("a", { class: "btn-5", href: c.url, target: "_blank", rel: "noopener" }, label + " ↗");
    return el("button", { type: "button", class: `btn-${c.style || 2}`, disabled: !!c.disabled,
      onclick: () => act("/api/component", { message: msg.id, custom_id: c.custom_id }) }, label);
  }
  if (c.type === 3) {
    const id = `sel-${msg.id}-${c.custom_id}`.replace(/[^\w-]/g, "_");
    const multi = (c.max_values || 1) > 1;
    const select = el("select", { id, multiple: multi, disabled: !!c.disabled, "aria-label": c.placeholder || "Choose" },
      multi ? null : el("option", { value: "", text: c.placeholder || "Choose…" }),
      (c.options || []).map((o) => el("option", { value: o.value, text: o.label, selected: !!o.default })));
    const go = el("button", { type: "button", disabled: !!c.disabled, onclick: () => {
      const values = Array.from(select.selectedOptions).map((o) => o.value).filter((v) => v !== "");
      act("/api/component", { message: msg.id, custom_id: c.custom_id, values });
    } }, "Choose");
    return el("div", { class: "row" }, select, go);
  }
  if (c.type === 10) return el("div", { class: "content", html: markdown(c.content || "") });
  if (c.type === 17 || c.type === 9) return el("div", { class: "embed" }, (c.components || []).map((x) => renderComponent(msg, x)),
    c.accessory ? renderComponent(msg, c.accessory) : null);
  return el("div", { class: "help", text: `(a component of type ${c.type} the sandbox does not draw)` });
}

function renderMessage(msg) {
  const li = el("li", { class: "msg" + (msg.ephemeral ? " ephemeral" : ""), "data-id": msg.id });
  if (msg.command) li.append(el("div", { class: "used", text: `${msg.command_user || "Someone"} used /${msg.command}` }));
  const at = msg.at ? new Date(msg.at) : null;
  li.append(el("div", { class: "meta" }, el("span", { class: "author", text: msg.author.name }),
    msg.author.bot ? el("span", { class: "app", text: "APP" }) : null,
    at ? el("time", { datetime: at.toISOString(), text: new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(at) }) : null,
    msg.edited ? " (edited)" : null));
  if (msg.loading) li.append(el("div", { class: "content help", text: `${msg.author.name} is thinking…` }));
  if (msg.content) li.append(el("div", { class: "content", html: markdown(msg.content) }));
  for (const e of msg.embeds) li.append(renderEmbed(msg, e));
  if (msg.attachments.length) {
    li.append(el("div", { class: "attachments" }, msg.attachments.map((a) => (a.content_type || "").startsWith("image/")
      ? el("a", { href: a.url, target: "_blank" }, el("img", { src: a.url, alt: a.filename }))
      : el("a", { href: a.url, download: a.filename }, `⬇ ${a.filename}`))));
  }
  for (const c of msg.components) li.append(renderComponent(msg, c));
  if (msg.ephemeral) li.append(el("div", { class: "eph-note", text: "👁 Only you can see this" }));
  return li;
}

// ---------------------------------------------------------------- view
function renderView() {
  const v = S.view;
  $("#clock-now").textContent = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" }).format(new Date(v.clock.now));
  $("#clock-now").setAttribute("datetime", v.clock.now);
  const list = $("#channel-list");
  list.replaceChildren();
  const top = v.channels.filter((c) => c.kind === "text");
  for (const c of top) {
    list.append(channelItem(c, "# "));
    for (const t of v.channels.filter((x) => x.kind === "thread" && x.parent === c.id)) list.append(channelItem(t, "↳ ", "thread"));
  }
  for (const t of v.channels.filter((x) => x.kind === "thread" && !top.some((c) => c.id === x.parent))) list.append(channelItem(t, "↳ ", "thread"));
  const dm = v.channels.find((c) => c.kind === "dm");
  list.append(el("li", { class: "dm" }, dm ? el("button", { type: "button", "aria-current": String(S.channel === dm.id),
    onclick: () => pickChannel(dm.id) }, "✉ " + dm.name) : el("span", { class: "help", text: "No direct messages yet" })));
  const STATUS = { 1: "scheduled", 2: "active", 3: "completed", 4: "cancelled" };
  $("#event-list").replaceChildren(...(v.events.length ? v.events.map((e) => el("li", {}, e.name,
    el("time", { datetime: e.start, text: `${new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(new Date(e.start))} · ${STATUS[e.status] || ""}` })))
    : [el("li", { class: "help", text: "None (roundtables appear here when mirrored)" })]));
  const current = v.channels.find((c) => c.id === v.channel);
  $("#channel-title").textContent = current ? (current.kind === "dm" ? current.name : `# ${current.name}`) : "";
  const box = $("#messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
  // Keyed update: only new or changed messages are rebuilt, so a screen reader announces just those.
  const old = new Map(Array.from(box.children).map((li) => [li.dataset.id, li]));
  const wanted = v.messages.map((m) => {
    const key = JSON.stringify(m) + v.clock.now.slice(0, 16);  // relative times follow the sandbox clock
    const li = old.get(m.id);
    if (li && li.dataset.key === key) return li;
    const fresh = renderMessage(m);
    fresh.dataset.key = key;
    return fresh;
  });
  wanted.forEach((li, i) => { if (box.children[i] !== li) box.insertBefore(li, box.children[i] || null); });
  while (box.children.length > wanted.length) box.lastElementChild.remove();
  if (atBottom || S.scrollDown) { box.scrollTop = box.scrollHeight; S.scrollDown = false; }
  const vlist = $("#violation-list");
  vlist.replaceChildren(...v.violations.map((x) => el("li", { text: x })));
  $("#violations").hidden = v.violations.length === 0;
  const inDm = current && current.kind === "dm";
  $("#composer").disabled = !!inDm;
  $("#composer").placeholder = inDm ? "The bot's direct messages to you (commands run in the server's channels)"
    : "Type / to pick a command, or write a message";
}

function channelItem(c, prefix, cls) {
  return el("li", { class: cls || null }, el("button", { type: "button", "aria-current": String(S.channel === c.id),
    onclick: () => pickChannel(c.id) }, prefix + c.name));
}

function pickChannel(id) { S.channel = id; S.scrollDown = true; refresh(); }

async function refresh() {
  if (S.refreshing) { S.again = true; return; }
  S.refreshing = true;
  try {
    do {
      S.again = false;
      const asked = { member: S.member, channel: S.channel || "" };
      const view = await api(`/api/view?${new URLSearchParams(asked)}`);
      if (S.member !== asked.member || (S.channel || "") !== asked.channel) { S.again = true; continue; }  // a newer pick
      S.view = view;
      S.channel = view.channel;  // the server falls back to #general when the channel is not this member's
      renderView();
    } while (S.again);
  } catch (e) {
    notice(e.message);
  } finally {
    S.refreshing = false;
  }
}

async function act(path, body) {
  notice("");
  try {
    const res = await api(path, { member: S.member, ...body });
    if (res.modal) openModal(res.modal);
    S.scrollDown = true;
    await refresh();
    return res;
  } catch (e) {
    notice(e.message);
    return null;
  }
}

// ---------------------------------------------------------------- modal
function modalInput(c, label, description) {
  const id = `m-${c.custom_id}`.replace(/[^\w-]/g, "_");
  const wrap = el("div", {}, el("label", { for: id, text: (label || c.label || c.custom_id) + (c.required === false ? "" : " *") }));
  if (description) wrap.append(el("div", { class: "desc", text: description }));
  let input;
  if (c.type === 4) {
    const attrs = { id, name: c.custom_id, placeholder: c.placeholder, required: c.required !== false,
      minlength: c.min_length, maxlength: c.max_length };
    input = c.style === 2 ? el("textarea", attrs) : el("input", { type: "text", ...attrs });
    if (c.value) input.value = c.value;
  } else if (c.type === 3) {
    input = el("select", { id, name: c.custom_id, multiple: (c.max_values || 1) > 1, required: c.required !== false },
      (c.max_values || 1) > 1 ? null : el("option", { value: "", text: c.placeholder || "Choose…" }),
      (c.options || []).map((o) => el("option", { value: o.value, text: o.label, selected: !!o.default })));
  } else {
    return el("div", { class: "help", text: `(a form field of type ${c.type} the sandbox does not draw)` });
  }
  input.dataset.kind = String(c.type);
  wrap.append(input);
  return wrap;
}

function openModal(m) {
  S.modal = m;
  $("#modal-title").textContent = m.title || "Form";
  const fields = $("#modal-fields");
  fields.replaceChildren();
  for (const row of m.components || []) {
    if (row.type === 1) for (const c of row.components || []) fields.append(modalInput(c));
    else if (row.type === 18) fields.append(modalInput(row.component, row.label, row.description));
    else if (row.type === 10) fields.append(el("div", { class: "content", html: markdown(row.content || "") }));
  }
  $("#modal").showModal();
}

async function submitModal(ev) {
  ev.preventDefault();
  const form = $("#modal-form");
  if (!form.reportValidity()) return;
  const values = {};
  for (const input of form.querySelectorAll("[name]")) {
    values[input.name] = input.dataset.kind === "3" ? Array.from(input.selectedOptions).map((o) => o.value).filter((v) => v) : input.value;
  }
  const key = S.modal.key;
  $("#modal").close();
  S.modal = null;
  await act("/api/modal", { key, values });
}

// ---------------------------------------------------------------- commands
function flatten(commands) {
  const out = [];
  const walk = (path, node) => {
    const subs = (node.options || []).filter((o) => o.type === 1 || o.type === 2);
    if (subs.length) for (const s of subs) walk(`${path} ${s.name}`, s);
    else out.push({ path, description: node.description || "", options: node.options || [] });
  };
  for (const c of commands) if (c.type === 1) walk(c.name, c);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

function showPalette() {
  const input = $("#composer");
  const text = input.value;
  const pal = $("#palette");
  if (!text.startsWith("/") || S.command) { pal.hidden = true; input.setAttribute("aria-expanded", "false"); return; }
  const q = text.slice(1).trim().toLowerCase();
  const hits = S.entries.filter((e) => e.path.startsWith(q)).concat(S.entries.filter((e) => !e.path.startsWith(q) && e.path.includes(q))).slice(0, 25);
  S.hits = hits;
  if (S.active >= hits.length) S.active = hits.length - 1;
  if (S.active < 0 && hits.length) S.active = 0;
  pal.replaceChildren(...hits.map((e, i) => el("li", { role: "option", id: `cmd-${i}`, "aria-selected": String(i === S.active),
    onmousedown: (ev) => { ev.preventDefault(); chooseCommand(e); } }, `/${e.path}`, el("span", { class: "desc", text: e.description }))));
  pal.hidden = hits.length === 0;
  input.setAttribute("aria-expanded", String(!pal.hidden));
  if (S.active >= 0) { input.setAttribute("aria-activedescendant", `cmd-${S.active}`); const li = $(`#cmd-${S.active}`); if (li) li.scrollIntoView({ block: "nearest" }); }
}

const OPTION_TYPES = { 3: "text", 4: "whole number", 5: "yes or no", 6: "member", 7: "channel", 8: "role", 9: "member or role", 10: "number", 11: "file" };

function optionField(entry, o) {
  const id = `opt-${o.name}`;
  const label = el("label", { for: id, text: `${o.name}${o.required ? " *" : ""} — ${o.description || OPTION_TYPES[o.type] || ""}` });
  let input;
  const members = () => S.world.members.map((m) => el("option", { value: m.id, text: m.label }));
  if (o.choices && o.choices.length) {
    input = el("select", { id, required: !!o.required }, el("option", { value: "", text: "—" }),
      o.choices.map((c) => el("option", { value: String(c.value), text: c.name })));
  } else if (o.type === 5) {
    input = el("select", { id, required: !!o.required }, el("option", { value: "", text: "—" }),
      el("option", { value: "true", text: "Yes" }), el("option", { value: "false", text: "No" }));
  } else if (o.type === 6 || o.type === 9) {
    input = el("select", { id, required: !!o.required }, el("option", { value: "", text: "—" }), members(),
      o.type === 9 ? S.world.roles.map((r) => el("option", { value: r.id, text: "@" + r.name })) : null);
  } else if (o.type === 7) {
    input = el("select", { id, required: !!o.required }, el("option", { value: "", text: "—" }),
      S.view.channels.filter((c) => c.kind !== "dm").map((c) => el("option", { value: c.id, text: "#" + c.name })));
  } else if (o.type === 8) {
    input = el("select", { id, required: !!o.required }, el("option", { value: "", text: "—" }),
      S.world.roles.map((r) => el("option", { value: r.id, text: "@" + r.name })));
  } else if (o.type === 11) {
    input = el("input", { id, type: "file", required: !!o.required });
  } else {
    const isNum = (o.type === 4 || o.type === 10) && !o.autocomplete;  // suggestions are names, not numbers
    input = el("input", { id, type: isNum ? "number" : "text", required: !!o.required, step: o.type === 10 ? "any" : null,
      min: o.min_value, max: o.max_value, minlength: o.min_length, maxlength: o.max_length });
    if (o.autocomplete) {
      const listId = `ac-${o.name}`;
      input.setAttribute("list", listId);
      input.setAttribute("aria-describedby", `${listId}-help`);
      let timer = null;
      const ask = () => { clearTimeout(timer); timer = setTimeout(() => autocomplete(entry, o, input, listId), 120); };
      input.addEventListener("input", ask);
      input.addEventListener("focus", ask);
      return el("div", {}, label, input, el("datalist", { id: listId }),
        el("div", { id: `${listId}-help`, class: "help", text: "Suggestions come from the bot as you type." }));
    }
  }
  input.dataset.type = String(o.type);
  return el("div", {}, label, input);
}

async function autocomplete(entry, o, input, listId) {
  try {
    const res = await api("/api/autocomplete", { member: S.member, channel: S.channel, name: entry.path, focused: o.name,
      value: input.value, options: collectOptions(o.name, true) });
    // Like Discord: the person sees and picks a choice's name; the command receives its value.
    S.choices[o.name] = new Map(res.choices.map((c) => [c.name, c.value]));
    $(`#${listId}`).replaceChildren(...res.choices.map((c) => el("option", { value: c.name })));
  } catch (e) {
    notice(e.message);
  }
}

function chooseCommand(entry) {
  S.command = entry;
  S.choices = {};
  $("#composer").value = `/${entry.path}`;
  $("#palette").hidden = true;
  $("#composer").setAttribute("aria-expanded", "false");
  const fields = $("#option-fields");
  fields.replaceChildren(...entry.options.map((o) => optionField(entry, o)));
  $("#options-legend").textContent = `/${entry.path}`;
  $("#options-help").textContent = (entry.description ? entry.description + ". " : "") +
    (entry.options.length ? "Fields marked * are required." : "No options: press Send.");
  $("#options").hidden = false;
  $("#clear").hidden = false;
  const first = fields.querySelector("input, select");
  (first || $("#send")).focus();
}

function clearCommand() {
  S.command = null;
  $("#options").hidden = true;
  $("#clear").hidden = true;
  $("#option-fields").replaceChildren();
  $("#composer").value = "";
  $("#composer").focus();
}

function collectOptions(skip, lenient) {
  const out = {};
  for (const o of S.command ? S.command.options : []) {
    if (o.name === skip || o.type === 11) continue;
    const input = $(`#opt-${o.name}`);
    if (!input || input.value === "") continue;
    const t = o.type;
    const picked = S.choices[o.name];
    if (picked && picked.has(input.value)) { out[o.name] = picked.get(input.value); continue; }
    out[o.name] = t === 4 ? parseInt(input.value, 10) : t === 10 ? parseFloat(input.value) : t === 5 ? input.value === "true" : input.value;
    if (lenient && (t === 4 || t === 10) && Number.isNaN(out[o.name])) delete out[o.name];
  }
  return out;
}

async function readFiles() {
  const files = {};
  for (const o of S.command.options.filter((x) => x.type === 11)) {
    const input = $(`#opt-${o.name}`);
    if (!input || !input.files.length) continue;
    const f = input.files[0];
    const buf = new Uint8Array(await f.arrayBuffer());
    let bin = "";
    for (let i = 0; i < buf.length; i += 0x8000) bin += String.fromCharCode(...buf.subarray(i, i + 0x8000));
    files[o.name] = { filename: f.name, data: btoa(bin) };
  }
  return files;
}

async function send(ev) {
  ev.preventDefault();
  const input = $("#composer");
  if (!S.command && input.value.startsWith("/")) {
    const exact = S.entries.find((e) => `/${e.path}` === input.value.trim());
    const pick = exact || (S.hits && S.hits[S.active]);
    if (pick) chooseCommand(pick);
    return;
  }
  if (S.command) {
    if (!$("#compose").reportValidity()) return;
    const entry = S.command;
    const res = await act("/api/invoke", { channel: S.channel, name: entry.path, options: collectOptions(), files: await readFiles() });
    if (res) clearCommand();
    return;
  }
  if (!input.value.trim()) return;
  const res = await act("/api/say", { channel: S.channel, text: input.value });
  if (res) input.value = "";
}

function composerKeys(ev) {
  const pal = $("#palette");
  if (pal.hidden) { if (ev.key === "Escape" && S.command) clearCommand(); return; }
  if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
    ev.preventDefault();
    const n = (S.hits || []).length;
    if (!n) return;
    S.active = (S.active + (ev.key === "ArrowDown" ? 1 : -1) + n) % n;
    showPalette();
  } else if (ev.key === "Enter" || ev.key === "Tab") {
    if (S.hits && S.hits[S.active]) { ev.preventDefault(); chooseCommand(S.hits[S.active]); }
  } else if (ev.key === "Escape") {
    pal.hidden = true;
  }
}

// ---------------------------------------------------------------- start
async function loadWorld() {
  for (;;) {
    try {
      S.world = await api("/api/world");
      return;
    } catch (e) {
      notice("Starting the bot… " + e.message);
      await new Promise((r) => setTimeout(r, 700));
    }
  }
}

function connect() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/ws`);
  ws.onmessage = () => refresh();
  ws.onclose = () => setTimeout(connect, 1000);
}

async function main() {
  await loadWorld();
  notice("");
  $("#guild-name").textContent = S.world.guild.name;
  document.title = `${S.world.guild.name} — Attaché sandbox`;
  const sel = $("#member");
  sel.replaceChildren(...S.world.members.map((m) => el("option", { value: m.id, text: m.label })));
  const saved = localStorage.getItem("attache-sandbox-member");
  S.member = S.world.members.some((m) => m.id === saved) ? saved : S.world.members.find((m) => m.role === "liaison").id;
  sel.value = S.member;
  sel.addEventListener("change", () => { S.member = sel.value; localStorage.setItem("attache-sandbox-member", S.member); refresh(); });
  S.entries = flatten(S.world.commands);
  const input = $("#composer");
  input.addEventListener("input", () => { if (S.command && !input.value.startsWith(`/${S.command.path}`)) clearCommand(); S.active = 0; showPalette(); });
  input.addEventListener("keydown", composerKeys);
  input.addEventListener("blur", () => setTimeout(() => { $("#palette").hidden = true; }, 150));
  $("#compose").addEventListener("submit", send);
  $("#clear").addEventListener("click", clearCommand);
  $("#modal-form").addEventListener("submit", submitModal);
  $("#modal-cancel").addEventListener("click", () => { $("#modal").close(); S.modal = null; });
  for (const b of document.querySelectorAll(".clock [data-minutes]")) b.addEventListener("click", () => act("/api/clock", { minutes: Number(b.dataset.minutes) }));
  $("#clock-to").addEventListener("submit", (ev) => { ev.preventDefault(); act("/api/clock", { to: new Date($("#clock-date").value).toISOString() }); });
  $("#reset").addEventListener("click", async () => {
    if (!confirm("Reset the sandbox to the sample data? Everything done here is lost.")) return;
    notice("Resetting…", true);
    await act("/api/reset", {});
    await loadWorld();
    S.entries = flatten(S.world.commands);
    notice("Back to the sample data.", true);
  });
  await refresh();
  connect();
}

main();
