// The VOSS portal: plain DOM, no framework, every string from the i18n service (`/api/v1/i18n/…`).
// Text from the server (names, keys) is only ever set as textContent, never parsed as HTML.
// The session token lives in sessionStorage and travels in the Authorization header only.

const $ = (sel) => document.querySelector(sel);
let strings = {};
let me = null;

function t(key, ...args) {
  const s = strings[key] ?? key;
  return s.replace(/\{(\d+)\}/g, (_, i) => (args[Number(i)] ?? ""));
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v;
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

function toast(msg, isError = false) {
  const b = $("#toast");
  b.textContent = msg;
  b.className = isError ? "error" : "";
  b.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (b.hidden = true), 6000);
}

function size(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${u[i]}`;
}

class APIError extends Error {
  constructor(status, body) {
    super(body?.error?.message ? t(body.error.message.key, ...(body.error.message.args || [])) : `HTTP ${status}`);
    if (this.message === body?.error?.message?.key) this.message = body.error.text;
    this.status = status;
    this.code = body?.error?.code;
  }
}

async function api(method, path, body) {
  const headers = {};
  const token = sessionStorage.getItem("voss.token");
  if (token) headers.Authorization = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch("/api/v1" + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = (r.headers.get("Content-Type") || "").startsWith("application/json") ? await r.json() : null;
  if (r.status === 401 && path !== "/login") { logout(true); throw new APIError(401, data); }
  if (!r.ok) throw new APIError(r.status, data);
  return data;
}

const enc = encodeURIComponent;

async function loadStrings(locale) {
  const r = await fetch("/api/v1/i18n/" + enc(locale));
  const data = r.ok ? await r.json() : { locale: "en", messages: {}, languages: { en: "English" } };
  strings = data.messages;
  document.documentElement.lang = data.locale;
  const sel = $("#lang");
  sel.replaceChildren(...Object.entries(data.languages).map(([tag, name]) => el("option", { value: tag, selected: tag === data.locale }, name)));
  sel.setAttribute("aria-label", t("portal.language"));
  document.title = t("portal.title");
}

function logout(expired) {
  const token = sessionStorage.getItem("voss.token");
  sessionStorage.removeItem("voss.token");
  if (token && !expired) fetch("/api/v1/logout", { method: "POST", headers: { Authorization: "Bearer " + token } });
  me = null;
  showLogin(expired ? t("portal.session_expired") : "");
}

// ---- login ---------------------------------------------------------------------------------------

function showLogin(message = "") {
  $("#nav").replaceChildren();
  $("#who").textContent = "";
  $("#logout").hidden = true;
  const err = el("p", { class: "error", id: "login-error", text: message });
  const form = el("form", { class: "card login", id: "login" },
    el("h1", { text: t("portal.login.title") }),
    el("label", { for: "tenant", text: t("portal.login.tenant") }), el("input", { id: "tenant", name: "tenant", required: true, autocomplete: "organization" }),
    el("label", { for: "user", text: t("portal.login.user") }), el("input", { id: "user", name: "user", required: true, autocomplete: "username" }),
    el("label", { for: "password", text: t("portal.login.password") }),
    el("input", { id: "password", name: "password", type: "password", required: true, autocomplete: "current-password" }),
    el("button", { type: "submit", id: "login-button", text: t("portal.login.submit") }), err);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.textContent = "";
    try {
      const r = await api("POST", "/login", { tenant: form.tenant.value, user: form.user.value, password: form.password.value });
      sessionStorage.setItem("voss.token", r.token);
      me = r.me;
      start();
    } catch (x) {
      err.textContent = x.message;
    }
  });
  $("#main").replaceChildren(form);
}

// ---- shell ---------------------------------------------------------------------------------------

const isAdmin = () => me && me.role !== "tenant-user";
const isProvider = () => me && me.role === "provider-admin";

function views() {
  const v = [["buckets", showBuckets], ["keys", showKeys]];
  if (isAdmin()) v.push(["users", showUsers], ["usage", showUsage]);
  if (isProvider()) v.push(["tenants", showTenants], ["platforms", showPlatforms]);
  return v;
}

function nav(active) {
  $("#nav").replaceChildren(...views().map(([name, fn]) =>
    el("a", { id: "nav-" + name, class: name === active ? "active" : "", onclick: fn, text: t("portal.nav." + name) })));
  $("#who").textContent = t("portal.who", me.name, me.tenant, t("portal.role." + me.role));
  const out = $("#logout");
  out.hidden = false;
  out.textContent = t("portal.logout");
}

async function start() {
  if (!me) {
    try { me = await api("GET", "/me"); } catch { return; }
  }
  showBuckets();
}

function page(name, title, ...content) {
  nav(name);
  $("#main").replaceChildren(el("h1", { id: "page-title", text: title }), ...content);
}

async function guarded(fn) {
  try { await fn(); } catch (x) { if (x.status !== 401) toast(x.message, true); }
}

// ---- buckets and objects -------------------------------------------------------------------------

async function showBuckets() {
  await guarded(async () => {
    const [{ buckets }, { platforms }] = await Promise.all([api("GET", "/buckets"), api("GET", "/platforms")]);
    const rows = buckets.map((b) => el("tr", { "data-bucket": b.name },
      el("td", {}, el("a", { class: "folder", onclick: () => browse(b.name, ""), text: b.name })),
      isProvider() ? el("td", { text: b.tenant }) : null,
      el("td", { text: b.platform }), el("td", { text: new Date(b.createdAt).toLocaleString(document.documentElement.lang) }),
      el("td", {}, el("button", { class: "danger", onclick: () => deleteBucket(b.name), text: t("portal.delete") }))));
    const form = el("form", { class: "inline", id: "bucket-form" },
      el("input", { id: "bucket-name", placeholder: t("portal.buckets.name"), required: true, pattern: "[a-z0-9][a-z0-9.\\-]{1,61}[a-z0-9]" }),
      el("select", { id: "bucket-platform", "aria-label": t("portal.buckets.platform") },
        platforms.map((p) => el("option", { value: p.name, selected: p.isDefault }, p.name))),
      el("button", { type: "submit", text: t("portal.buckets.create") }));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      guarded(async () => {
        await api("POST", "/buckets", { name: form.querySelector("#bucket-name").value, platform: form.querySelector("#bucket-platform").value });
        toast(t("portal.buckets.created", form.querySelector("#bucket-name").value));
        showBuckets();
      });
    });
    page("buckets", t("portal.nav.buckets"),
      el("div", { class: "card" }, form),
      el("div", { class: "card" }, buckets.length ? el("table", { id: "buckets" },
        el("tr", {}, el("th", { text: t("portal.buckets.name") }), isProvider() ? el("th", { text: t("portal.tenant") }) : null,
          el("th", { text: t("portal.buckets.platform") }), el("th", { text: t("portal.created") }), el("th")), rows)
        : el("p", { class: "muted", text: t("portal.buckets.none") })));
  });
}

async function deleteBucket(name) {
  if (!confirm(t("portal.buckets.confirm_delete", name))) return;
  await guarded(async () => { await api("DELETE", "/buckets/" + enc(name)); toast(t("portal.deleted", name)); showBuckets(); });
}

async function browse(bucket, prefix) {
  await guarded(async () => {
    const list = await api("GET", `/buckets/${enc(bucket)}/objects?delimiter=/&prefix=${enc(prefix)}`);
    const usage = await api("GET", `/buckets/${enc(bucket)}/usage`);
    const tags = await api("GET", `/buckets/${enc(bucket)}/tags`).catch(() => null);
    const parts = prefix.split("/").filter(Boolean);
    const crumbs = el("p", { class: "crumbs" },
      el("a", { onclick: () => browse(bucket, ""), text: bucket }),
      parts.map((p, i) => [" / ", el("a", { onclick: () => browse(bucket, parts.slice(0, i + 1).join("/") + "/"), text: p })]));
    const rows = [
      ...list.prefixes.map((p) => el("tr", {}, el("td", {}, el("a", { class: "folder", onclick: () => browse(bucket, p), text: p.slice(prefix.length) })),
        el("td"), el("td"), el("td"))),
      ...list.objects.map((o) => el("tr", { "data-key": o.key },
        el("td", { class: "key", text: o.key.slice(prefix.length) }), el("td", { text: size(o.size) }),
        el("td", { text: new Date(o.lastModified).toLocaleString(document.documentElement.lang) }),
        el("td", {},
          el("button", { class: "secondary", onclick: () => download(bucket, o.key), text: t("portal.objects.download") }), " ",
          el("button", { class: "secondary", onclick: () => share(bucket, o.key), text: t("portal.objects.share") }), " ",
          el("button", { class: "danger", onclick: () => deleteObject(bucket, prefix, o.key), text: t("portal.delete") })))),
    ];
    const file = el("input", { type: "file", id: "upload-file" });
    const bar = el("div");
    const status = el("span", { id: "upload-status", class: "muted" });
    const up = el("form", { class: "inline", id: "upload-form" }, file,
      el("button", { type: "submit", text: t("portal.objects.upload") }), el("span", { class: "progress", id: "upload-progress" }, bar), status);
    up.addEventListener("submit", (e) => { e.preventDefault(); if (file.files[0]) upload(bucket, prefix, file.files[0], bar, status); });
    page("buckets", t("portal.objects.title", bucket), crumbs,
      el("p", { class: "muted", id: "bucket-usage", text: t("portal.objects.usage", usage.objects, size(usage.bytes)) }),
      el("div", { class: "card" }, up),
      el("div", { class: "card", id: "share-box", hidden: true }),
      tags ? tagEditor(bucket, tags.tags) : null,
      el("div", { class: "card" }, rows.length ? el("table", { id: "objects" },
        el("tr", {}, el("th", { text: t("portal.objects.key") }), el("th", { text: t("portal.objects.size") }),
          el("th", { text: t("portal.objects.modified") }), el("th")), rows) : el("p", { class: "muted", text: t("portal.objects.none") })));
  });
}

// A bucket's tags: one row per tag, saved together (S3 replaces the whole set).
function tagEditor(bucket, tags) {
  const rows = el("div", { id: "tag-rows" });
  const row = (k = "", v = "") => {
    const r = el("div", { class: "inline tag-row" },
      el("input", { class: "tag-key", value: k, placeholder: t("portal.tags.key"), maxlength: 128 }),
      el("input", { class: "tag-value", value: v, placeholder: t("portal.tags.value"), maxlength: 256 }),
      el("button", { type: "button", class: "danger", text: "×", "aria-label": t("portal.delete"), onclick: () => r.remove() }));
    rows.append(r);
  };
  for (const [k, v] of Object.entries(tags).sort()) row(k, v);
  const form = el("form", { id: "tags-form" }, el("h2", { text: t("portal.tags.title") }), rows,
    el("p", { class: "inline" },
      el("button", { type: "button", class: "secondary", id: "tag-add", text: t("portal.tags.add"), onclick: () => row() }),
      el("button", { type: "submit", text: t("portal.tags.save") })));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(async () => {
      const set = {};
      for (const r of rows.querySelectorAll(".tag-row")) {
        const k = r.querySelector(".tag-key").value.trim();
        if (k) set[k] = r.querySelector(".tag-value").value;
      }
      await api("PUT", `/buckets/${enc(bucket)}/tags`, { tags: set });
      toast(t("portal.tags.saved", bucket));
    });
  });
  return el("div", { class: "card" }, form);
}

const PART = 8 << 20;  // parts of big uploads (S3's minimum is 5 MiB)
const MULTIPART_FROM = 16 << 20;

function showProgress(bar, status, loaded, total) {
  const pct = Math.floor((100 * loaded) / Math.max(total, 1));
  bar.style.width = pct + "%";
  status.textContent = t("portal.objects.uploading", pct);
  status.dataset.percent = String(pct);
}

// One request with upload progress; resolves with the parsed JSON answer or rejects with
// {status, retry} (retry: a network failure or a server that may answer later).
function send(method, url, body, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("Authorization", "Bearer " + sessionStorage.getItem("voss.token"));
    if (!(body instanceof Blob)) xhr.setRequestHeader("Content-Type", "application/json");
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded); };
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(data);
      const err = new APIError(xhr.status, data);
      err.retry = xhr.status >= 500 || xhr.status === 429;
      reject(err);
    };
    xhr.onerror = () => { const err = new Error("network"); err.retry = true; err.status = 0; reject(err); };
    xhr.send(body instanceof Blob ? body : JSON.stringify(body));
  });
}

async function withRetries(fn) {
  for (let attempt = 0; ; attempt++) {
    try { return await fn(); } catch (x) {
      if (!x.retry || attempt >= 7) throw x;
      await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** attempt, 8000)));
    }
  }
}

// Big files: a multipart upload, part by part, each part retried after a network error; the upload's id
// is kept in localStorage so choosing the same file again (after a reload) sends only missing parts.
async function multipartUpload(bucket, key, f, bar, status) {
  const base = `/api/v1/buckets/${enc(bucket)}/uploads`;
  const memo = `voss.upload:${bucket}/${key}:${f.size}:${f.lastModified}`;
  let info = null;
  const saved = localStorage.getItem(memo);
  if (saved) {
    try { info = await send("GET", `${base}/${enc(saved)}`); } catch { localStorage.removeItem(memo); }
  }
  if (!info) {
    info = await withRetries(() => send("POST", base, { key }));
    localStorage.setItem(memo, info.uploadId);
  }
  const count = Math.ceil(f.size / PART);
  const done = new Map(info.parts.filter((p) => p.size === Math.min(PART, f.size - (p.partNumber - 1) * PART)).map((p) => [p.partNumber, p.etag]));
  let sent = [...done.keys()].reduce((n, i) => n + Math.min(PART, f.size - (i - 1) * PART), 0);
  showProgress(bar, status, sent, f.size);
  for (let i = 1; i <= count; i++) {
    if (done.has(i)) continue;
    const blob = f.slice((i - 1) * PART, Math.min(i * PART, f.size));
    const part = await withRetries(() => send("PUT", `${base}/${enc(info.uploadId)}/parts/${i}`, blob, (n) => showProgress(bar, status, sent + n, f.size)));
    done.set(i, part.etag);
    sent += blob.size;
    showProgress(bar, status, sent, f.size);
  }
  const parts = [...done.entries()].sort((a, b) => a[0] - b[0]).map(([partNumber, etag]) => ({ partNumber, etag }));
  await withRetries(() => send("POST", `${base}/${enc(info.uploadId)}/complete`, { parts }));
  localStorage.removeItem(memo);
}

async function upload(bucket, prefix, f, bar, status) {
  const key = prefix + f.name;
  if (f.size >= MULTIPART_FROM) {
    try {
      await multipartUpload(bucket, key, f, bar, status);
      toast(t("portal.objects.uploaded", key));
      browse(bucket, prefix);
    } catch (x) {
      if (x.status === 401) return logout(true);
      toast(x.status ? x.message : t("portal.objects.upload_interrupted", key), true);
    }
    return;
  }
  const xhr = new XMLHttpRequest();
  xhr.open("PUT", `/api/v1/buckets/${enc(bucket)}/objects/${enc(key)}`);
  xhr.setRequestHeader("Authorization", "Bearer " + sessionStorage.getItem("voss.token"));
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) showProgress(bar, status, e.loaded, e.total); };
  xhr.onload = () => {
    if (xhr.status === 401) return logout(true);
    if (xhr.status >= 300) {
      let msg = `HTTP ${xhr.status}`;
      try { const b = JSON.parse(xhr.responseText); msg = t(b.error.message.key, ...(b.error.message.args || [])); } catch { /* keep */ }
      status.textContent = "";
      return toast(msg, true);
    }
    toast(t("portal.objects.uploaded", key));
    browse(bucket, prefix);
  };
  xhr.onerror = () => { status.textContent = ""; toast(t("portal.objects.upload_failed", key), true); };
  xhr.send(f);
}

async function download(bucket, key) {
  await guarded(async () => {
    const r = await fetch(`/api/v1/buckets/${enc(bucket)}/objects/${enc(key)}`, {
      headers: { Authorization: "Bearer " + sessionStorage.getItem("voss.token") },
    });
    if (r.status === 401) return logout(true);
    if (!r.ok) throw new APIError(r.status, await r.json().catch(() => null));
    const url = URL.createObjectURL(await r.blob());
    const a = el("a", { href: url, download: key.split("/").pop() });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  });
}

function share(bucket, key) {
  const box = $("#share-box");
  const secs = el("input", { id: "share-seconds", type: "number", min: 1, max: 604800, value: 3600 });
  const out = el("input", { id: "share-link", class: "link", readonly: true });
  const form = el("form", { class: "inline" }, el("span", { text: t("portal.share.for", key) }), secs,
    el("span", { text: t("portal.share.seconds") }), el("button", { type: "submit", text: t("portal.share.make") }));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(async () => {
      try {
        const r = await api("POST", `/buckets/${enc(bucket)}/share`, { key, expiresIn: Number(secs.value) });
        out.value = r.url;
        out.select();
      } catch (x) {
        if (x.code === "no_access_key") toast(t("portal.share.needs_key"), true); else throw x;
      }
    });
  });
  box.replaceChildren(form, out);
  box.hidden = false;
}

async function deleteObject(bucket, prefix, key) {
  if (!confirm(t("portal.objects.confirm_delete", key))) return;
  await guarded(async () => { await api("DELETE", `/buckets/${enc(bucket)}/objects/${enc(key)}`); browse(bucket, prefix); });
}

// ---- access keys ---------------------------------------------------------------------------------

async function showKeys() {
  await guarded(async () => {
    const base = `/tenants/${enc(me.tenant)}/users/${enc(me.name)}/keys`;
    const { keys } = await api("GET", base);
    const secretBox = el("div", { id: "new-key" });
    const create = el("button", { id: "key-create", text: t("portal.keys.create"), onclick: () => guarded(async () => {
      const k = await api("POST", base);
      secretBox.replaceChildren(el("p", { text: t("portal.keys.shown_once") }),
        el("p", { class: "secret" }, el("span", { text: t("portal.keys.access_key") + ": " }), el("span", { id: "new-access-key", text: k.accessKey }), el("br"),
          el("span", { text: t("portal.keys.secret") + ": " }), el("span", { id: "new-secret", text: k.secret })));
      const list = await api("GET", base);
      $("#keys-table")?.replaceWith(keyTable(list.keys));
    }) });
    page("keys", t("portal.nav.keys"), el("div", { class: "card" }, create, secretBox), el("div", { class: "card" }, keyTable(keys)));
  });
}

function keyTable(keys) {
  return el("table", { id: "keys-table" },
    el("tr", {}, el("th", { text: t("portal.keys.access_key") }), el("th", { text: t("portal.created") }), el("th")),
    keys.map((k) => el("tr", {}, el("td", { text: k.accessKey }), el("td", { text: new Date(k.createdAt).toLocaleString(document.documentElement.lang) }),
      el("td", {}, el("button", { class: "danger", text: t("portal.delete"), onclick: () => guarded(async () => {
        if (!confirm(t("portal.keys.confirm_delete", k.accessKey))) return;
        await api("DELETE", "/keys/" + enc(k.accessKey));
        showKeys();
      }) })))));
}

// ---- admins: users, usage, tenants -----------------------------------------------------------------

async function showUsers(tenant = me.tenant) {
  if (typeof tenant !== "string") tenant = me.tenant;
  await guarded(async () => {
    const { users } = await api("GET", `/tenants/${enc(tenant)}/users`);
    const roles = isProvider() ? ["tenant-user", "tenant-admin", "provider-admin"] : ["tenant-user", "tenant-admin"];
    const form = el("form", { class: "inline", id: "user-form" },
      el("input", { id: "new-user", placeholder: t("portal.users.name"), required: true }),
      el("select", { id: "new-role" }, roles.map((r) => el("option", { value: r }, t("portal.role." + r)))),
      el("input", { id: "new-password", type: "password", placeholder: t("portal.login.password"), autocomplete: "new-password" }),
      el("button", { type: "submit", text: t("portal.users.create") }));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      guarded(async () => {
        const pw = form.querySelector("#new-password").value;
        await api("POST", `/tenants/${enc(tenant)}/users`, { name: form.querySelector("#new-user").value, role: form.querySelector("#new-role").value, password: pw || undefined });
        showUsers(tenant);
      });
    });
    let picker = null;
    if (isProvider()) {
      const { tenants } = await api("GET", "/tenants");
      picker = el("select", { id: "users-tenant", onchange: (e) => showUsers(e.target.value) },
        tenants.map((x) => el("option", { value: x.name, selected: x.name === tenant }, x.name)));
    }
    page("users", t("portal.users.title", tenant), picker, el("div", { class: "card" }, form),
      el("div", { class: "card" }, el("table", { id: "users" },
        el("tr", {}, el("th", { text: t("portal.users.name") }), el("th", { text: t("portal.users.role") }), el("th", { text: t("portal.created") }), el("th")),
        users.map((u) => el("tr", {}, el("td", { text: u.name }), el("td", { text: t("portal.role." + u.role) }),
          el("td", { text: new Date(u.createdAt).toLocaleString(document.documentElement.lang) }),
          el("td", {}, u.id === me.id ? null : el("button", { class: "danger", text: t("portal.delete"), onclick: () => guarded(async () => {
            if (!confirm(t("portal.users.confirm_delete", u.name))) return;
            await api("DELETE", `/tenants/${enc(tenant)}/users/${enc(u.name)}`);
            showUsers(tenant);
          }) })))))));
  });
}

async function showUsage() {
  await guarded(async () => {
    const { tenants } = await api("GET", "/usage");
    const quotas = Object.fromEntries(await Promise.all(tenants.map(async (x) =>
      [x.tenant, (await api("GET", `/tenants/${enc(x.tenant)}/quota`).catch(() => ({}))).bytes])));
    const max = Math.max(1, ...tenants.map((x) => x.bytes));
    page("usage", t("portal.nav.usage"), el("div", { class: "card" }, el("table", { id: "usage" },
      el("tr", {}, el("th", { text: t("portal.tenant") }), el("th", { text: t("portal.usage.buckets") }), el("th", { text: t("portal.usage.objects") }),
        el("th", { text: t("portal.usage.bytes") }), el("th", { text: t("portal.usage.quota") }), el("th", { class: "chart" })),
      tenants.map((x) => {
        const bar = el("div", { class: "bar", title: size(x.bytes) });
        bar.style.width = `${(100 * x.bytes) / max}%`;
        const q = quotas[x.tenant];
        return el("tr", {}, el("td", { text: x.tenant }), el("td", { text: x.buckets }), el("td", { text: x.objects }), el("td", { text: size(x.bytes) }),
          el("td", { class: "quota", text: q === undefined || q === null ? t("portal.usage.no_quota") : size(q) }), el("td", {}, bar));
      }))));
  });
}

async function showPlatforms() {
  await guarded(async () => {
    const { platforms } = await api("GET", "/platforms");
    const max = Math.max(1, ...platforms.map((x) => x.bytes || 0));
    page("platforms", t("portal.nav.platforms"), el("div", { class: "card" }, el("table", { id: "platforms" },
      el("tr", {}, el("th", { text: t("portal.buckets.platform") }), el("th", { text: t("portal.usage.buckets") }),
        el("th", { text: t("portal.usage.objects") }), el("th", { text: t("portal.usage.bytes") }), el("th", { class: "chart" })),
      platforms.map((x) => {
        const bar = el("div", { class: "bar", title: size(x.bytes || 0) });
        bar.style.width = `${(100 * (x.bytes || 0)) / max}%`;
        return el("tr", {}, el("td", { text: x.name + (x.isDefault ? " " + t("portal.platforms.default") : "") }), el("td", { text: x.buckets ?? 0 }),
          el("td", { text: x.objects ?? 0 }), el("td", { text: size(x.bytes || 0) }), el("td", {}, bar));
      }))));
  });
}

// A provider admin sets a tenant's quota in GiB (empty: none).
function quotaForm(tenant) {
  const input = el("input", { class: "quota-gib", type: "number", min: 0, step: "any", placeholder: t("portal.tenants.quota_gib") });
  api("GET", `/tenants/${enc(tenant)}/quota`).then((q) => { if (q.bytes !== undefined && q.bytes !== null) input.value = String(q.bytes / 2 ** 30); }).catch(() => {});
  const form = el("form", { class: "inline" }, input, el("button", { type: "submit", class: "secondary", text: t("portal.tenants.set_quota") }));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(async () => {
      const v = input.value.trim();
      await api("PUT", `/tenants/${enc(tenant)}/quota`, { bytes: v === "" ? null : Math.round(Number(v) * 2 ** 30) });
      toast(t("portal.tenants.quota_set", tenant));
    });
  });
  return form;
}

async function showTenants() {
  await guarded(async () => {
    const { tenants } = await api("GET", "/tenants");
    const form = el("form", { class: "inline", id: "tenant-form" }, el("input", { id: "new-tenant", placeholder: t("portal.tenant"), required: true }),
      el("button", { type: "submit", text: t("portal.tenants.create") }));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      guarded(async () => { await api("POST", "/tenants", { name: form.querySelector("#new-tenant").value }); showTenants(); });
    });
    page("tenants", t("portal.nav.tenants"), el("div", { class: "card" }, form), el("div", { class: "card" }, el("table", { id: "tenants" },
      el("tr", {}, el("th", { text: t("portal.tenant") }), el("th", { text: t("portal.created") }), el("th", { text: t("portal.usage.quota") }), el("th")),
      tenants.map((x) => el("tr", { "data-tenant": x.name }, el("td", {}, el("a", { class: "folder", onclick: () => showUsers(x.name), text: x.name })),
        el("td", { text: new Date(x.createdAt).toLocaleString(document.documentElement.lang) }),
        el("td", {}, quotaForm(x.name)),
        el("td", {}, el("button", { class: "danger", text: t("portal.delete"), onclick: () => guarded(async () => {
          if (!confirm(t("portal.tenants.confirm_delete", x.name))) return;
          await api("DELETE", "/tenants/" + enc(x.name));
          showTenants();
        }) })))))));
  });
}

// ---- start ---------------------------------------------------------------------------------------

$("#logout").addEventListener("click", () => logout(false));
$("#lang").addEventListener("change", async (e) => {
  localStorage.setItem("voss.locale", e.target.value);
  await loadStrings(e.target.value);
  if (me) start(); else showLogin();
});

// Inside the cloud director (the plugin frames this page): the director's session token arrives by
// message from the parent page and is exchanged for a VOSS session; the token is never in a URL.
function embeddedInDirector() {
  if (new URLSearchParams(location.search).get("embedded") !== "director" || window.parent === window) return false;
  $("#main").replaceChildren(el("p", { class: "muted", id: "director-wait", text: t("portal.director.signing_in") }));
  window.addEventListener("message", async (e) => {
    if (e.source !== window.parent || e.data?.type !== "voss.director-token" || typeof e.data.token !== "string") return;
    try {
      const r = await api("POST", "/login/director", { token: e.data.token });
      sessionStorage.setItem("voss.token", r.token);
      me = r.me;
      start();
    } catch (x) {
      showLogin(t("portal.director.failed", x.message));
    }
  });
  // Ready for the token now (no secret in this message, so any parent may hear it).
  window.parent.postMessage({ type: "voss.ready" }, "*");
  return true;
}

const preferred = localStorage.getItem("voss.locale") || (navigator.language.startsWith("zh") ? "zh-Hans" : "en");
await loadStrings(preferred);
if (sessionStorage.getItem("voss.token")) start(); else if (!embeddedInDirector()) showLogin();
