/* 市州工作台: roster, import, review (one bulk act, reported per row), scores and corrections, score sheets, teams and rankings, timeline, users. */
"use strict";
(function () {
  const { api, el, label, time, until, explain, message, showErrors, clearErrors, markField, catalogue, Problem } = window.ZY;
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
  /* each cell names its column, so a narrow screen can show a row as a card (table.stack) */
  function labelCells(table) {
    const heads = [...table.tHead.rows[0].cells].filter((th) => !th.hidden).map((th) => th.dataset.label || th.textContent.trim());
    for (const tr of table.tBodies[0].rows) [...tr.cells].forEach((td, i) => { td.dataset.label = heads[i] || ""; });
  }
  const points = new Intl.NumberFormat("zh-CN", { maximumFractionDigits: 2, useGrouping: false });

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

  /* --- review: one bulk act; the server decides and records each contestant on its own --- */
  const reviewTable = document.getElementById("review-table");
  const reviewBody = reviewTable.tBodies[0];
  const reviewForm = document.getElementById("review-form");
  const reviewBoxes = () => [...reviewBody.querySelectorAll("input[type=checkbox]:not(:disabled)")];
  function countPicked() {
    const boxes = reviewBoxes();
    const picked = boxes.filter((b) => b.checked).length;
    document.getElementById("review-picked").textContent = `已勾选 ${picked} 人`;
    const all = document.getElementById("review-all");
    all.checked = boxes.length > 0 && picked === boxes.length;
    all.indeterminate = picked > 0 && picked < boxes.length;
  }
  let reviewWritten = null;  /* the log position after this page's last act: a reload holds it */
  async function loadReview() {
    try {
      const after = reviewWritten ? { min_position: reviewWritten } : {};
      const found = await roster({ status: "nominated", city: cityOf("v-city"), sort: "time", page_size: 200, ...after });
      reviewBody.replaceChildren(...found.contestants.map((c) => el("tr", { dataset: { id: c.id, name: c.name, city: c.city } },
        el("td", { class: "pick" }, el("input", { type: "checkbox", "aria-label": `选择 ${c.name}`, onchange: countPicked })),
        el("td", { class: "nowrap" }, c.name), el("td", { class: "nowrap" }, c.city), el("td", { class: "nowrap" }, label("groups", c.group)),
        el("td", { class: "nowrap" }, label("channels", c.channel)),
        el("td", { class: "wide" }, `${label("platforms", c.platform)} ${c.account}`), el("td", { class: "nowrap" }, time(c.nominated_at)), el("td", { class: "result wide" }))));
      labelCells(reviewTable);
      countPicked();
      say(found.total > found.contestants.length ? `待审核 ${found.total} 人，先列出最早报名的 ${found.contestants.length} 人` : `待审核 ${found.total} 人`);
    } catch (problem) { say(message(problem), false); }
  }
  document.getElementById("v-city").addEventListener("change", loadReview);
  document.getElementById("review-load").addEventListener("click", () => { document.getElementById("review-report").hidden = true; loadReview(); });
  document.getElementById("review-all").addEventListener("change", (e) => {
    for (const box of reviewBoxes()) box.checked = e.target.checked;
    countPicked();
  });
  function reviewRefusal(row) {
    return catalogue.review_refusals[row.rule] || explain(row.rule, row.detail);
  }
  async function bulk(action) {
    clearErrors(reviewForm);
    const rows = [...reviewBody.rows].filter((tr) => tr.querySelector("input").checked);
    if (!rows.length) { say("请先勾选选手", false); return; }
    const reasonInput = document.getElementById("v-reason");
    const reason = reasonInput.value.trim();
    const evidence = document.getElementById("v-evidence").value.trim();
    if (action === "reject" && !reason) {
      markField(reviewForm, "reason", "批量不通过须填写理由（一条理由适用于所有勾选的选手）");
      say("未提交：请先填写不通过的理由", false);
      reasonInput.focus();
      return;
    }
    const buttons = reviewForm.querySelectorAll("button");
    for (const b of buttons) b.disabled = true;
    try {
      const { data, headers } = await api("POST", `/api/campaigns/${cid}/bulk/${action}`,
        { contestants: rows.map((tr) => tr.dataset.id), reason: reason || null, evidence: evidence || null });
      reviewWritten = headers.get("X-Log-Position") || reviewWritten;
      /* the report's line is the position in the list sent */
      const report = data.rows.map((r) => ({ ...r, tr: rows[r.line - 1] }));
      for (const { tr, outcome, rule, detail } of report) {
        const cell = tr.querySelector(".result");
        const done = outcome === "done";
        cell.textContent = done ? label("review_outcomes", action) : reviewRefusal({ rule, detail });
        cell.className = `result wide ${done ? "ok" : "bad"}`;
        const box = tr.querySelector("input");
        box.checked = false;
        if (done) { box.disabled = true; tr.classList.add("decided"); }
      }
      document.querySelector("#review-report-table tbody").replaceChildren(...report.map((r) => el("tr", { class: r.outcome === "refused" ? "bad" : "" },
        el("td", { class: "n" }, r.line), el("td", { class: "nowrap" }, r.tr.dataset.name), el("td", { class: "nowrap" }, r.tr.dataset.city),
        el("td", { class: `nowrap ${r.outcome === "done" ? "ok" : ""}` }, r.outcome === "done" ? label("review_outcomes", action) : label("review_outcomes", "refused")),
        el("td", { class: "wide" }, r.outcome === "done" ? null : reviewRefusal(r)))));
      labelCells(document.getElementById("review-report-table"));
      const c = data.counts;
      const verdict = action === "verify" ? "批量审核通过" : "批量不通过";
      document.getElementById("review-counts").textContent =
        `${verdict}：提交 ${rows.length} 人，完成 ${c.done} 人，未处理 ${c.refused} 人。每人单独记录一条决定。`;
      document.getElementById("review-report").hidden = false;
      say(`${verdict}：完成 ${c.done} 人${c.refused ? `，${c.refused} 人未处理（见“本次结果”）` : ""}`, c.refused === 0);
      countPicked();
    } catch (problem) {
      if (problem.rule === "reason_required") markField(reviewForm, "reason", message(problem));
      say(message(problem), false);
    } finally { for (const b of buttons) b.disabled = false; }
  }
  document.getElementById("bulk-verify").addEventListener("click", () => bulk("verify"));
  document.getElementById("bulk-reject").addEventListener("click", () => bulk("reject"));
  reviewForm.addEventListener("submit", (e) => e.preventDefault());
  loaders.review = loadReview;

  /* --- scores: first entry, and corrections of recorded scores (a reason each) --- */
  const scoreKeys = Object.keys(catalogue.scores);
  const scoresTable = document.getElementById("scores-table");
  const scoreMax = Number(scoresTable.dataset.scoreMax);
  const scoreState = document.getElementById("s-state");
  let scoresWritten = null;  /* the log position of this page's last score: the next list holds it */
  async function loadScores(position) {
    if (typeof position === "string") scoresWritten = position;
    const correcting = scoreState.value === "competed";
    document.getElementById("scores-reason-head").hidden = !correcting;
    document.getElementById("scores-hint-trained").hidden = correcting;
    document.getElementById("scores-hint-competed").hidden = !correcting;
    try {
      /* after a write, read the roster once it holds that write (X-Log-Position) */
      const after = scoresWritten ? { min_position: scoresWritten } : {};
      const found = await roster({ status: scoreState.value, city: cityOf("s-city"), page_size: 200, ...after });
      scoresTable.tBodies[0].replaceChildren(...found.contestants.map((c) => {
        const recorded = c.results || {};
        const tr = el("tr", { dataset: { id: c.id, version: c.version, recorded: correcting ? JSON.stringify(recorded) : "" } },
          el("td", { class: "nowrap" }, c.name), el("td", { class: "nowrap" }, c.city), el("td", { class: "nowrap" }, label("groups", c.group)),
          ...scoreKeys.map((k) => el("td", {}, el("input", { type: "number", min: 0, max: scoreMax, step: "0.5", name: k, inputmode: "decimal",
            value: correcting && recorded[k] !== undefined ? recorded[k] : null, "aria-label": `${c.name} ${catalogue.scores[k]}` }))),
          correcting ? el("td", { class: "wide" }, el("input", { name: "reason", maxlength: 500, "aria-label": `${c.name} 更正理由`, placeholder: "必填" })) : null,
          el("td", {}, el("button", { type: "button", class: "button small", onclick: () => saveScores(tr) }, correcting ? "更正" : "保存")),
          el("td", { class: "result wide" }));
        return tr;
      }));
      labelCells(scoresTable);
      say(correcting ? `已录入成绩 ${found.total} 人` : `待录入成绩 ${found.total} 人`);
    } catch (problem) { say(message(problem), false); }
  }
  async function saveScores(tr) {
    const cell = tr.querySelector(".result");
    const refuse = (text, input) => { cell.textContent = text; cell.className = "result wide bad"; if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); } };
    for (const input of tr.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    const scores = {};
    for (const k of scoreKeys) {
      const input = tr.querySelector(`[name=${k}]`);
      if (input.value.trim() === "") { refuse(`请填写${catalogue.scores[k]}成绩`, input); return; }
      scores[k] = Number(input.value);
    }
    const reasonInput = tr.querySelector("[name=reason]");
    const correcting = Boolean(tr.dataset.recorded);
    const body = { scores };
    if (correcting) {
      const recorded = JSON.parse(tr.dataset.recorded);
      if (scoreKeys.every((k) => recorded[k] === scores[k])) { refuse("成绩与已录入的相同，无需更正", tr.querySelector(`[name=${scoreKeys[0]}]`)); return; }
      if (!reasonInput.value.trim()) { refuse("更正已录入的成绩须填写理由", reasonInput); return; }
      body.reason = reasonInput.value.trim();
    }
    const button = tr.querySelector("button");
    button.disabled = true;
    try {
      const { data, headers } = await api("POST", `/api/contestants/${tr.dataset.id}/results`, body, { "If-Match": `"${tr.dataset.version}"`, "Idempotency-Key": crypto.randomUUID() });
      scoresWritten = headers.get("X-Log-Position") || scoresWritten;
      tr.dataset.version = data.version;
      if (correcting) {
        tr.dataset.recorded = JSON.stringify(data.results);
        reasonInput.value = "";
        cell.textContent = "已更正";
      } else {
        /* recorded now: a further change is a correction, with a reason, in the other list */
        for (const input of tr.querySelectorAll("input")) input.disabled = true;
        cell.textContent = "已保存（如需更正，请在“已录入成绩”中修改）";
      }
      cell.className = "result wide ok";
    } catch (problem) {
      cell.textContent = problem instanceof Problem && problem.rule === "invalid_value"
        ? problem.errors.map((e) => e.detail).join("；") || message(problem) : message(problem);
      cell.className = "result wide bad";
    } finally { button.disabled = tr.querySelector("input").disabled; }
  }
  /* a judges' score sheet: every row recorded on its own and reported */
  function sheetReason(row) {
    if (row.rule === "reason_required") return "该选手已有成绩，更正须附理由，请在上方“已录入成绩（可更正）”中逐个更正";
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
  scoreState.addEventListener("change", () => loadScores());
  loaders.scores = loadScores;

  /* --- teams: the view's team, and the city's rankings as the rankings API gives them --- */
  async function loadTeamNow(after) {
    const city = cityOf("t-city");
    const { data } = await api("GET", `/api/campaigns/${cid}/teams${after ? `?min_position=${after}` : ""}`);
    const team = data.teams.find((t) => t.city === city);
    document.getElementById("team-now").replaceChildren(team
      ? el("p", {}, `领队：${team.leader || "未任命"}；助理：${team.assistant ? team.assistant.name : "无"}；主播 ${team.streamers.length} 人（${team.streamers.map((s) => s.name).join("、") || "无"}）；`, team.complete ? "人员已齐" : "人员未齐")
      : el("p", {}, "尚未组队"));
  }
  function rankingTable(ranking) {
    const heading = `${ranking.group_title}（${ranking.entries.length} 人）`;
    const table = el("table", { class: "stack ranking", dataset: { group: ranking.group }, "aria-label": `${ranking.city} ${heading}` },
      el("thead", {}, el("tr", {}, el("th", { class: "n" }, "名次"), el("th", {}, "姓名"),
        ...scoreKeys.map((k) => el("th", { class: "n" }, catalogue.scores[k])), el("th", { class: "n" }, "总分"),
        el("th", {}, "状态"), el("th", { "data-label": "选入代表队" }), el("th", {}, "结果"))),
      el("tbody", {}, ranking.entries.map((e) => {
        const tr = el("tr", { dataset: { id: e.id, version: e.version } }, el("td", { class: "n rank" }, e.rank), el("td", { class: "nowrap name" }, e.name),
          ...scoreKeys.map((k) => el("td", { class: "n" }, e.results[k] === undefined ? "—" : points.format(e.results[k]))),
          el("td", { class: "n total" }, points.format(e.total)),
          el("td", { class: "nowrap status" }, `${label("statuses", e.status)}${e.team_role ? `（${label("team_roles", e.team_role)}）` : ""}`),
          el("td", { class: "nowrap picks" }, e.status === "competed" ? [
            el("button", { type: "button", class: "button small", onclick: () => advance(tr, "streamer") }, "选为主播"), " ",
            el("button", { type: "button", class: "button small secondary", onclick: () => advance(tr, "assistant") }, "选为助理")] : null),
          el("td", { class: "result wide" }));
        return tr;
      })));
    labelCells(table);
    return el("section", { class: "ranking-group" }, el("h4", {}, heading), el("div", { class: "table-wrap" }, table));
  }
  async function loadTeams() {
    const city = cityOf("t-city");
    const group = document.getElementById("t-group").value;
    try {
      const query = new URLSearchParams(Object.entries({ city, group }).filter(([, v]) => v));
      const [{ data }] = await Promise.all([api("GET", `/api/campaigns/${cid}/rankings?${query}`), loadTeamNow()]);
      const mine = data.rankings.filter((r) => r.city === city);
      document.getElementById("rankings").replaceChildren(...mine.map(rankingTable));
      const empty = document.getElementById("ranking-empty");
      empty.textContent = group ? "该市州该组别暂无已录入成绩的选手。" : "该市州暂无已录入成绩的选手。";
      empty.hidden = mine.length > 0;
    } catch (problem) { say(message(problem), false); }
  }
  async function advance(tr, role) {
    const cell = tr.querySelector(".result");
    for (const b of tr.querySelectorAll("button")) b.disabled = true;
    try {
      const { data, headers } = await api("POST", `/api/contestants/${tr.dataset.id}/advance`, { role }, { "If-Match": `"${tr.dataset.version}"`, "Idempotency-Key": crypto.randomUUID() });
      tr.querySelector(".status").textContent = `${label("statuses", data.status)}（${label("team_roles", role)}）`;
      tr.querySelector("button").parentElement.replaceChildren();
      cell.textContent = "已入选"; cell.className = "result wide ok";
      await loadTeamNow(headers.get("X-Log-Position"));
    } catch (problem) {
      cell.textContent = message(problem); cell.className = "result wide bad";
      for (const b of tr.querySelectorAll("button")) b.disabled = false;
    }
  }
  document.getElementById("teams-load").addEventListener("click", loadTeams);
  document.getElementById("t-city").addEventListener("change", loadTeams);
  document.getElementById("t-group").addEventListener("change", loadTeams);
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
