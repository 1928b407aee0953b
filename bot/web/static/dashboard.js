// The big screen: fetch the JSON snapshot, draw it, again every 30 seconds. No libraries.
"use strict";
const L = window.LABELS;
// The viewer's locale and the hospital's time zone, whatever the browser's own settings.
const LOCALE = document.documentElement.lang;
const TIME_ZONE = document.documentElement.dataset.timeZone;
const token = new URLSearchParams(location.search).get("t") || "";
const SVG = "http://www.w3.org/2000/svg";

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== "") node.textContent = text;
  return node;
}

function rows(table, header, lines) {
  table.replaceChildren();
  const head = el("tr");
  for (const name of header) head.append(el("th", {}, name));
  table.append(head);
  for (const line of lines) {
    const tr = el("tr", line.cls ? { class: line.cls } : {});
    for (const cell of line.cells) tr.append(el("td", {}, cell ?? "-"));
    table.append(tr);
  }
}

function bars(svg, items, label, value, format) {
  svg.replaceChildren();
  const width = svg.clientWidth || 600, height = svg.clientHeight || 220, gap = 6;
  const top = Math.max(1, ...items.map(value));
  const step = items.length ? width / items.length : width;
  items.forEach((item, i) => {
    const h = Math.round((height - 40) * value(item) / top);
    const x = i * step + gap / 2, w = Math.max(step - gap, 2);
    const rect = document.createElementNS(SVG, "rect");
    rect.setAttribute("x", x); rect.setAttribute("y", height - 20 - h);
    rect.setAttribute("width", w); rect.setAttribute("height", h);
    svg.append(rect);
    for (const [y, text] of [[height - 4, label(item)], [height - 24 - h, format(value(item))]]) {
      const t = document.createElementNS(SVG, "text");
      t.setAttribute("x", x + w / 2); t.setAttribute("y", y); t.setAttribute("text-anchor", "middle");
      t.textContent = text;
      svg.append(t);
    }
  });
}

const minutes = (v) => (v === null ? "-" : `${Math.round(v)}${L.minutes}`);
const money = (v) => L.money.replace("{amount}", Math.round(v).toLocaleString(LOCALE));
const time = (iso) =>
  new Date(iso).toLocaleTimeString(LOCALE, { hour: "2-digit", minute: "2-digit", timeZone: TIME_ZONE });

function draw(d) {
  const tiles = [
    ["reports", d.today.reports], ["opened", d.today.opened], ["closed", d.today.closed],
    ["open", d.today.open], ["overdue", d.today.overdue],
    ["accept", minutes(d.times.accept_minutes)], ["resolve", minutes(d.times.resolve_minutes)],
  ];
  if (d.risk) tiles.push(["delay", `${Math.round(d.risk.delay_possibility * 100)}%`]);
  document.getElementById("today").replaceChildren(...tiles.map(([key, value]) => {
    const tile = el("div", { class: "tile", id: `tile-${key}` });
    tile.append(el("div", { class: "value" }, String(value)), el("div", { class: "name" }, L[key]));
    return tile;
  }));
  rows(document.getElementById("engineers"), [L.name, L.state, L.queue, L.current],
    d.engineers.map((e) => ({
      cells: [e.name, e.on_duty ? L.on_duty : L.off_duty, String(e.queue),
        e.current ? `#${e.current} ${e.current_department} (${L["status_" + e.current_status]})` : "-"],
    })));
  if (d.risk) {
    document.getElementById("delay").textContent =
      `${L.delay}: ${Math.round(d.risk.delay_possibility * 100)}%`;
    rows(document.getElementById("risk"), ["#", L.department, L.engineer, L.otp, L.eta],
      d.risk.tickets.map((r) => ({
        cls: r.colour,
        cells: [`#${r.number}`, r.department, r.engineer, `${Math.round(r.otp * 100)}%`,
          `${time(r.eta_p50)}–${time(r.eta_p90)}`],
      })));
  }
  bars(document.getElementById("departments-chart"), d.departments,
    (x) => x.name, (x) => x.count, String);
  rows(document.getElementById("models"), [L.model, L.assets, L.rate_30, L.rate_90],
    d.models.map((m) => ({
      cells: [m.model, String(m.assets), `${m.tickets_30} (${m.rate_30.toFixed(2)})`,
        `${m.tickets_90} (${m.rate_90.toFixed(2)})`],
    })));
  bars(document.getElementById("costs-chart"), d.costs, (x) => x.month.slice(2), (x) => x.amount,
    (v) => (v ? money(v) : ""));
  const spares = document.getElementById("spares");
  spares.replaceChildren(
    el("p", { id: "spare-pool" }, `${L.pool}: ${d.spares.pool.length}`),
    el("ul", {}, ""),
  );
  const list = spares.querySelector("ul");
  for (const loan of d.spares.loans) {
    list.append(el("li", {}, `${loan.code} → ${loan.department} #${loan.ticket} (${loan.days}${L.days})`));
  }
  document.getElementById("updated").textContent = `${L.updated} ${time(d.generated_at)}`;
}

async function refresh() {
  try {
    const response = await fetch(`/api/dashboard?t=${encodeURIComponent(token)}`);
    if (!response.ok) throw new Error(String(response.status));
    draw(await response.json());
  } catch (error) {
    document.getElementById("updated").textContent = `${L.offline} (${error.message})`;
  }
}

for (const node of document.querySelectorAll("[data-label]")) node.textContent = L[node.dataset.label];
for (const id of ["token-field", "token-field-2"]) document.getElementById(id).value = token;
document.getElementById("asset-query").placeholder = L.asset_search;
document.getElementById("asset-find").textContent = L.find;
document.getElementById("export-button").textContent = L.export;
refresh();
setInterval(refresh, 30000);
