/* commwatch duty console — small, no dependencies, shipped with the package.
   Sign-in, actions through the JSON API (X-CSRF-Token), live parts refreshed on
   server-sent events, running clocks, printing. */
"use strict";
(function () {
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const message = (text, ok) => {
    const box = document.getElementById("message");
    if (!box) return;
    box.textContent = text;
    box.className = "message " + (ok ? "ok" : "error");
    box.hidden = false;
    box.focus && box.setAttribute("tabindex", "-1");
  };

  async function call(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf()},
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (response.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); }
    return {ok: response.ok, status: response.status, data: data};
  }

  function fields(form) {
    const body = {};
    for (const el of form.querySelectorAll("input[name], select[name], textarea[name]")) body[el.name] = el.value;
    return body;
  }

  async function refresh(withActions) {
    const live = document.getElementById("live");
    if (!live) return;
    const response = await fetch(live.dataset.live, {credentials: "same-origin", cache: "no-store"});
    if (!response.ok) return;
    const html = await response.text();
    const fresh = new DOMParser().parseFromString("<div>" + html + "</div>", "text/html").body.firstChild;
    const parts = fresh.querySelectorAll("[data-part]");
    if (!parts.length) { live.innerHTML = fresh.innerHTML; ticks(); return; }
    for (const part of parts) {
      const old = live.querySelector('[data-part="' + part.dataset.part + '"]');
      if (!old) continue;
      if (part.dataset.part === "actions" && !withActions) continue;
      old.replaceWith(part);
    }
    ticks();
  }

  function pad(n) { return String(n).padStart(2, "0"); }
  function span(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + "小时" : "") + pad(m) + "分" + pad(s % 60) + "秒";
  }
  function ticks() {
    const now = Date.now();
    for (const el of document.querySelectorAll("time.clock")) {
      if (el.dataset.since) el.textContent = span(now - Date.parse(el.dataset.since));
      if (el.dataset.until) {
        const left = Date.parse(el.dataset.until) - now;
        el.textContent = left >= 0 ? span(left) : "已超时 " + span(-left);
        el.classList.toggle("late", left < 0);
      }
    }
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (form.id === "login-form") {
      event.preventDefault();
      const result = await call("/api/login", {person: form.person.value, password: form.password.value});
      if (result.ok) { location.href = form.dataset.next || "/"; return; }
      message(result.data.error || "登录失败", false);
      return;
    }
    if (!form.classList.contains("action")) return;
    event.preventDefault();
    const url = form.dataset.endpoint || ("/api/incidents/" + form.dataset.incident + "/" + form.dataset.action);
    const button = form.querySelector("button");
    if (button) button.disabled = true;
    const result = await call(url, fields(form));
    if (button) button.disabled = false;
    if (result.ok) {
      const done = "已完成：" + (button ? button.textContent : "操作");
      if (document.getElementById("live")) { await refresh(true); message(done, true); }
      else { sessionStorage.setItem("cw-message", done); location.reload(); }  /* shown after it */
    } else {
      message(result.data.error || ("操作失败（HTTP " + result.status + "）"), false);
    }
  });

  document.addEventListener("click", async (event) => {
    if (event.target.id === "logout") {
      await call("/api/logout");
      location.href = "/login";
    }
    if (event.target.id === "print-button") window.print();
  });

  function listen() {
    const live = document.getElementById("live");
    const state = document.getElementById("feed-state");
    if (!live || !window.EventSource) return;
    const source = new EventSource("/events");
    source.addEventListener("open", () => { if (state) state.textContent = "实时"; });
    source.addEventListener("error", () => { if (state) state.textContent = "重新连接中…"; });
    source.addEventListener("change", () => refresh(false));
  }

  document.addEventListener("DOMContentLoaded", () => {
    const kept = sessionStorage.getItem("cw-message");
    if (kept) { sessionStorage.removeItem("cw-message"); message(kept, true); }
    ticks();
    setInterval(ticks, 1000);
    listen();
  });
})();
