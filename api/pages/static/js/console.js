/* 市州工作台: roster, import, review (bulk, one call per contestant), scores and score sheets, teams, timeline, users. */
"use strict";
(function () {
  const { api, el, label, time, until, explain, message, showErrors, clearErrors, catalogue } = window.ZY;
  const root = document.getElementById("console");
  const cid = root.dataset.cid;
  const ownCity = root.dataset.city;
  const statusLine = document.getElementById("console-status");
  const say = (text, ok) => { statusLine.textContent = text; statusLine.className = `status-line ${ok === false ? "bad" : "ok"}`; };

  /* --- tabs (the address's #fragment) --- */
  const loaders = {};
  function showTab() {
    say("");
    const name = (location.hash || "#roster").slice(1);
    for (const section of root.querySelectorAll("[data-tab]")) section.hidden = section.dataset.tab !== name;
    for (const a of root.querySelectorAll(".tabs a")) {
      if (a.getAttribute("href") === `#${name}`) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    }
    if (loaders[name]) loaders[name]();
  }
  window.addEventListener("hashchange", showTab);
  if (ownCity) for (const id of ["r-city", "v-city", "s-city", "t-city"]) { const s = document.getElementById(id); s.value = ownCity; s.disabled = true; }

  async function roster(params) {
    const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v !== undefined && v !== null));
    return (await api("GET", `/api/campaigns/${cid}/contestants?${query}`)).data;
  }
  const cityOf = (id) => document.getElementById(id).value;

  /* --- roster --- */
  let page = 1;
  const filters = document.getElementById("roster-filters");
  async function loadRoster() {
    const data = Object.fromEntries(new FormData(filters));
    data.city = cityOf("r-city");
    try {
      const found = await roster({ ...data, page, page_size: 50 });
      const body = document.querySelector("#roster-table tbody");
      body.replaceChildren(...found.contestants.map((c) => el("tr", { dataset: { id: c.id } },
        el("td", {}, c.name), el("td", {}, c.city), el("td", {}, label("groups", c.group)), el("td", {}, label("channels", c.channel)),
        el("td", {}, `${label("platforms", c.platform)} ${c.account}`), el("td", { class: "n" }, c.followers),
        el("td", {}, c.id_number), el("td", {}, c.mobile), el("td", {}, label("statuses", c.status)),
        el("td", {}, el("a", { href: `/c/${cid}/audit?contestant=${c.id}` }, "查看")))));
      const pages = Math.max(1, Math.ceil(found.total / found.page_size));
      document.getElementById("roster-total").textContent = `共 ${found.total} 人，第 ${found.page} / ${pages} 页`;
      document.getElementById("roster-prev").disabled = page <= 1;
      document.getElementById("roster-next").disabled = page >= pages;
      const x = new URLSearchParams(data.city ? { city: data.city } : {});
      document.getElementById("roster-xlsx").href = `/api/campaigns/${cid}/roster.xlsx?${x}`;
    } catch (problem) { say(message(problem), false); }
  }
  filters.addEventListener("submit", (e) => { e.preventDefault(); page = 1; loadRoster(); });
  document.getElementById("roster-prev").addEventListener("click", () => { page -= 1; loadRoster(); });
  document.getElementById("roster-next").addEventListener("click", () => { page += 1; loadRoster(); });
  loaders.roster = loadRoster;

  /* --- import --- */
  const importForm = document.getElementById("import-form");
  importForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(importForm);
    const form = new FormData(importForm);
    for (const k of ["group", "unit"]) if (!form.get(k)) form.delete(k);
    const button = importForm.querySelector("button");
    button.disabled = true;
    try {
      const { data } = await api("POST", `/api/campaigns/${cid}/imports`, form);
      const c = data.counts;
      document.getElementById("import-counts").textContent =
        `${data.filename}：已导入 ${c.created || 0} 行，此前已导入 ${c.unchanged || 0} 行，未导入 ${c.refused || 0} 行。`;
      document.querySelector("#import-table tbody").replaceChildren(...data.rows.map((r) => el("tr", { class: r.outcome === "refused" ? "bad" : "" },
        el("td", { class: "n" }, r.line), el("td", {}, r.name), el("td", {}, label("outcomes", r.outcome)),
        el("td", {}, r.rule ? explain(r.rule, r.detail) : ""))));
      document.getElementById("import-report").hidden = false;
      say("导入完成");
    } catch (problem) {
      showErrors(importForm, problem, document.getElementById("import-error"), {});
    } finally { button.disabled = false; }
  });

  /* --- review: one decision per contestant, each with the version it was based on --- */
  const reviewBody = document.querySelector("#review-table tbody");
  async function loadReview() {
    try {
      const found = await roster({ status: "nominated", city: cityOf("v-city"), sort: "time", page_size: 200 });
      reviewBody.replaceChildren(...found.contestants.map((c) => el("tr", { dataset: { id: c.id, version: c.version } },
        el("td", {}, el("input", { type: "checkbox", "aria-label": `选择 ${c.name}` })),
        el("td", {}, c.name), el("td", {}, c.city), el("td", {}, label("groups", c.group)), el("td", {}, label("channels", c.channel)),
        el("td", {}, `${label("platforms", c.platform)} ${c.account}`), el("td", {}, time(c.nominated_at)), el("td", { class: "result" }))));
      say(`待审核 ${found.total} 人`);
    } catch (problem) { say(message(problem), false); }
  }
  document.getElementById("v-city").addEventListener("change", loadReview);
  document.getElementById("review-all").addEventListener("change", (e) => {
    for (const box of reviewBody.querySelectorAll("input[type=checkbox]")) box.checked = e.target.checked;
  });
  async function bulk(action) {
    const rows = [...reviewBody.querySelectorAll("tr")].filter((tr) => tr.querySelector("input").checked);
    if (!rows.length) { say("请先勾选选手", false); return; }
    const reason = document.getElementById("v-reason").value.trim();
    const evidence = document.getElementById("v-evidence").value.trim();
    if (action === "reject" && !reason) { say(catalogue.rules.reason_required, false); document.getElementById("v-reason").focus(); return; }
    let done = 0, refused = 0;
    for (const tr of rows) {
      const cell = tr.querySelector(".result");
      try {
        await api("POST", `/api/contestants/${tr.dataset.id}/${action}`, { reason: reason || null, evidence: evidence || null },
          { "If-Match": `"${tr.dataset.version}"`, "Idempotency-Key": crypto.randomUUID() });
        cell.textContent = action === "verify" ? "已审核通过" : "已标记不通过";
        cell.className = "result ok";
        tr.querySelector("input").disabled = true;
        tr.querySelector("input").checked = false;
        done += 1;
      } catch (problem) {
        cell.textContent = message(problem);
        cell.className = "result bad";
        refused += 1;
      }
    }
    say(`完成 ${done} 人${refused ? `，${refused} 人未完成（见"结果"列）` : ""}`, refused === 0);
  }
  document.getElementById("bulk-verify").addEventListener("click", () => bulk("verify"));
  document.getElementById("bulk-reject").addEventListener("click", () => bulk("reject"));
  loaders.review = loadReview;

  /* --- scores --- */
  const scoreKeys = Object.keys(catalogue.scores);
  async function loadScores(position) {
    try {
      /* after a write, read the roster once it holds that write (X-Log-Position) */
      const after = typeof position === "string" ? { min_position: position } : {};
      const found = await roster({ status: "trained", city: cityOf("s-city"), page_size: 200, ...after });
      document.querySelector("#scores-table tbody").replaceChildren(...found.contestants.map((c) => {
        const tr = el("tr", { dataset: { id: c.id, version: c.version } }, el("td", {}, c.name), el("td", {}, c.city), el("td", {}, label("groups", c.group)),
          ...scoreKeys.map((k) => el("td", {}, el("input", { type: "number", min: 0, step: "0.5", name: k, "aria-label": `${c.name} ${catalogue.scores[k]}` }))),
          el("td", {}, el("button", { type: "button", class: "button small", onclick: () => saveScores(tr) }, "保存")), el("td", { class: "result" }));
        return tr;
      }));
      say(`待录入成绩 ${found.total} 人`);
    } catch (problem) { say(message(problem), false); }
  }
  async function saveScores(tr) {
    const scores = {};
    for (const k of scoreKeys) scores[k] = Number(tr.querySelector(`[name=${k}]`).value);
    const cell = tr.querySelector(".result");
    try {
      await api("POST", `/api/contestants/${tr.dataset.id}/results`, { scores }, { "If-Match": `"${tr.dataset.version}"`, "Idempotency-Key": crypto.randomUUID() });
      cell.textContent = "已保存"; cell.className = "result ok";
    } catch (problem) { cell.textContent = message(problem); cell.className = "result bad"; }
  }
  /* a judges' score sheet: every row recorded on its own and reported */
  function sheetReason(row) {
    if (row.rule === "reason_required") return "该选手已有成绩，更正须附理由，请在上方逐个更正";
    if (row.rule === "invalid_transition") return "该选手当前状态下不能录入成绩（须已完成培训）";
    return explain(row.rule, row.detail);
  }
  const sheetForm = document.getElementById("sheet-form");
  sheetForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(sheetForm);
    const button = sheetForm.querySelector("button");
    button.disabled = true;
    try {
      const { data, headers } = await api("POST", `/api/campaigns/${cid}/scores`, new FormData(sheetForm));
      const c = data.counts;
      document.getElementById("sheet-counts").textContent = `已录入 ${c.done || 0} 行，未录入 ${c.refused || 0} 行。`;
      const sheets = data.rows.some((r) => r.sheet);  /* a one-sheet workbook or a CSV names none */
      document.querySelector("#sheet-table thead th").hidden = !sheets;
      document.querySelector("#sheet-table tbody").replaceChildren(...data.rows.map((r) => el("tr", { class: r.outcome === "refused" ? "bad" : "" },
        sheets ? el("td", {}, r.sheet || "—") : null, el("td", { class: "n" }, r.line), el("td", { class: "nowrap" }, r.name || "—"),
        el("td", { class: "nowrap" }, label("sheet_outcomes", r.outcome)),
        el("td", {}, r.rule ? sheetReason(r) : ""))));
      document.getElementById("sheet-report").hidden = false;
      say("评分表已处理", c.refused === 0);
      loadScores(headers.get("X-Log-Position"));
    } catch (problem) {
      showErrors(sheetForm, problem, document.getElementById("sheet-error"), {});
    } finally { button.disabled = false; }
  });
  document.getElementById("scores-load").addEventListener("click", () => loadScores());
  document.getElementById("s-city").addEventListener("change", () => loadScores());
  loaders.scores = loadScores;

  /* --- teams: the view's team, and the city's ranking by total score --- */
  async function loadTeams() {
    const city = cityOf("t-city");
    try {
      const [teams, competed] = await Promise.all([
        api("GET", `/api/campaigns/${cid}/teams`),
        Promise.all(["competed", "advanced", "awarded"].map((status) => roster({ status, city, page_size: 1000 }))),
      ]);
      const team = teams.data.teams.find((t) => t.city === city);
      const box = document.getElementById("team-now");
      box.replaceChildren(team
        ? el("p", {}, `领队：${team.leader || "未任命"}；助理：${team.assistant ? team.assistant.name : "无"}；主播 ${team.streamers.length} 人（${team.streamers.map((s) => s.name).join("、")}）；`, team.complete ? "已满员" : "未满员")
        : el("p", {}, "尚未组队"));
      const all = competed.flatMap((p) => p.contestants).map((c) => ({ ...c, total: Object.values(c.results || {}).reduce((a, b) => a + b, 0) }));
      all.sort((a, b) => b.total - a.total);
      document.querySelector("#ranking-table tbody").replaceChildren(...all.map((c, i) => {
        const tr = el("tr", { dataset: { id: c.id, version: c.version } }, el("td", { class: "n" }, i + 1), el("td", {}, c.name),
          el("td", {}, label("groups", c.group)), el("td", { class: "n" }, c.total.toFixed(1)),
          el("td", {}, `${label("statuses", c.status)}${c.team_role ? `（${label("team_roles", c.team_role)}）` : ""}`),
          el("td", {}, c.status === "competed" ? [
            el("button", { type: "button", class: "button small", onclick: () => advance(tr, "streamer") }, "选为主播"), " ",
            el("button", { type: "button", class: "button small secondary", onclick: () => advance(tr, "assistant") }, "选为助理")] : ""),
          el("td", { class: "result" }));
        return tr;
      }));
    } catch (problem) { say(message(problem), false); }
  }
  async function advance(tr, role) {
    const cell = tr.querySelector(".result");
    try {
      await api("POST", `/api/contestants/${tr.dataset.id}/advance`, { role }, { "If-Match": `"${tr.dataset.version}"`, "Idempotency-Key": crypto.randomUUID() });
      cell.textContent = "已入选"; cell.className = "result ok";
    } catch (problem) { cell.textContent = message(problem); cell.className = "result bad"; }
  }
  document.getElementById("teams-load").addEventListener("click", loadTeams);
  const leaderForm = document.getElementById("leader-form");
  leaderForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(leaderForm);
    try {
      await api("POST", `/api/campaigns/${cid}/teams/${encodeURIComponent(cityOf("t-city"))}/leader`, Object.fromEntries(new FormData(leaderForm)));
      say("领队已任命"); loadTeams();
    } catch (problem) { showErrors(leaderForm, problem, document.getElementById("leader-error"), {}); }
  });
  loaders.teams = loadTeams;

  /* --- timeline (admin) --- */
  async function loadTimeline() {
    try {
      const { data } = await api("GET", `/api/campaigns/${cid}`);
      document.querySelector("#timeline-table tbody").replaceChildren(...Object.entries(data.timeline).map(([code, w]) => {
        const reason = el("input", { maxlength: 500, placeholder: "理由", "aria-label": `${label("phases", code)} 理由` });
        const act = async (side) => {
          if (!reason.value.trim()) { say(catalogue.rules.reason_required, false); reason.focus(); return; }
          try { await api("POST", `/api/campaigns/${cid}/phases/${code}/${side}`, { reason: reason.value.trim() }); say("已记录"); loadTimeline(); }
          catch (problem) { say(message(problem), false); }
        };
        return el("tr", {}, el("td", {}, label("phases", code)), el("td", {}, time(w.opens)), el("td", {}, until(w.closes)),
          el("td", {}, label("phase_statuses", w.status)), el("td", {}, label("phase_statuses", w.recorded)),
          el("td", {}, reason, " ", el("button", { type: "button", class: "button small", onclick: () => act("open") }, "开启"), " ",
            el("button", { type: "button", class: "button small secondary", onclick: () => act("close") }, "结束")));
      }));
    } catch (problem) { say(message(problem), false); }
  }
  const amendForm = document.getElementById("amend-form");
  amendForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(amendForm);
    const f = Object.fromEntries(new FormData(amendForm));
    const at = `${f.at}:00+08:00`;  /* the clerk types Beijing time */
    try {
      await api("POST", `/api/campaigns/${cid}/timeline`, { timeline: { [f.code]: { [f.side]: at } }, reason: f.reason });
      say("赛程已调整"); loadTimeline();
    } catch (problem) { showErrors(amendForm, problem, document.getElementById("amend-error"), {}); }
  });
  loaders.timeline = loadTimeline;

  /* --- users (admin) --- */
  const userForm = document.getElementById("user-form");
  userForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(userForm);
    const f = Object.fromEntries(new FormData(userForm));
    if (!f.city) delete f.city;
    try {
      const { data } = await api("POST", "/api/users", f);
      const box = document.getElementById("user-token");
      box.replaceChildren(el("p", {}, `用户 ${data.username}（${label("roles", data.role)}）已创建。令牌只显示这一次，请妥善转交：`), el("p", { class: "code" }, data.token));
      box.hidden = false;
      loadUsers();
    } catch (problem) { showErrors(userForm, problem, document.getElementById("user-error"), { duplicate_user: "username" }); }
  });

  /* every user, disabled ones too; disabling stops the token at once */
  async function loadUsers() {
    try {
      const { data } = await api("GET", "/api/users");
      document.querySelector("#users-table tbody").replaceChildren(...data.map((u) => {
        const cell = el("td", { class: "result" });
        const change = async (verb) => {
          const reason = document.getElementById("u-reason").value.trim();
          try {
            await api("POST", `/api/users/${encodeURIComponent(u.username)}/${verb}`, { reason: reason || null }, { "Idempotency-Key": crypto.randomUUID() });
            say(verb === "disable" ? `已停用 ${u.username}` : `已启用 ${u.username}`); loadUsers();
          } catch (problem) { cell.textContent = message(problem); cell.className = "result bad"; }
        };
        return el("tr", { dataset: { username: u.username } }, el("td", {}, u.username), el("td", {}, label("roles", u.role)), el("td", {}, u.city || "—"),
          el("td", {}, u.disabled ? "已停用" : "正常"), el("td", {}, u.token_expires_at ? time(u.token_expires_at) : "不过期"), el("td", {}, time(u.created_at)),
          el("td", {}, u.disabled
            ? el("button", { type: "button", class: "button small", onclick: () => change("enable") }, "启用")
            : el("button", { type: "button", class: "button small secondary", onclick: () => change("disable") }, "停用")), cell);
      }));
    } catch (problem) { say(message(problem), false); }
  }
  loaders.users = loadUsers;

  showTab();
})();
