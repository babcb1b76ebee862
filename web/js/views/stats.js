// One link: its details, QR code downloads and click statistics (people and bots apart).

import { api, enc, errorBox } from "../api.js";
import { barChart, dailySeries, dailyTable } from "../chart.js";
import { announce, copy, formatDate, h } from "../dom.js";

// What each QR format is asked for as: the deployed API decodes PNG only for `image/png`.
const QR_TYPES = { svg: "image/svg+xml", png: "image/png" };

export async function statsView(page, code, context) {
  const details = h("div", {}, h("p", { role: "status" }, "Loading…"));
  const stats = h("section", { "aria-labelledby": "clicks-title" },
    h("h2", { id: "clicks-title" }, "Clicks"), h("p", { role: "status" }, "Loading the statistics…"));
  page.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Your links")),
    h("h1", {}, code),
    details, qrSection(code), stats);
  const [link, numbers] = await Promise.allSettled([
    api.get(`/urls/${enc(code)}`),
    api.get(`/urls/${enc(code)}/stats`),
  ]);
  if (!context.isCurrent()) return;
  details.replaceChildren(link.status === "fulfilled" ? linkDetails(link.value.body, context) : errorBox(link.reason, () => context.go(`/links/${enc(code)}`)));
  stats.replaceChildren(stats.firstChild, ...(numbers.status === "fulfilled" ? statsParts(numbers.value.body) : [errorBox(numbers.reason, () => context.go(`/links/${enc(code)}`))]));
}

function linkDetails(link, context) {
  const input = h("input", { type: "text", readonly: true, value: link.short_url, "aria-label": "Short link" });
  return h("div", { class: "card" },
    h("div", { class: "copy-row" }, input, h("button", { type: "button", onclick: () => copy(link.short_url, input) }, "Copy")),
    h("dl", { class: "facts" },
      fact("Destination", h("span", { class: "url" }, link.original_url)),
      fact("Title", link.title || "—"),
      fact("Status", h("span", { class: `status status-${link.status}` }, link.status)),
      fact("Redirect", String(link.redirect_type)),
      fact("Tags", link.tags?.length ? link.tags.join(", ") : "—"),
      fact("Created", formatDate(link.created_at)),
      fact("Expires", link.expires_at ? formatDate(link.expires_at) : "Never")),
    h("p", {}, h("button", { type: "button", onclick: () => context.go(`/links/${enc(link.short_code)}/edit`) }, "Edit")));
}

function fact(term, value) {
  return [h("dt", {}, term), h("dd", {}, value)];
}

function qrSection(code) {
  const preview = h("div", { class: "qr-preview" });
  const message = h("div");
  async function download(format) {
    message.replaceChildren(h("p", { role: "status" }, "Preparing the download…"));
    try {
      const { blob } = await api.blob(`/urls/${enc(code)}/qr?format=${format}`, QR_TYPES[format]);
      const url = URL.createObjectURL(blob);
      const a = h("a", { href: url, download: `${code}.${format}` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      message.replaceChildren();
      announce(`Downloaded ${code}.${format}.`);
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  }
  api.blob(`/urls/${enc(code)}/qr?format=svg`, QR_TYPES.svg).then(({ blob }) => {
    const url = URL.createObjectURL(blob);
    preview.replaceChildren(h("img", { src: url, alt: `QR code for the short link ${code}`, width: "160", height: "160" }));
  }, () => preview.replaceChildren());
  return h("section", { class: "card", "aria-labelledby": "qr-title" },
    h("h2", { id: "qr-title" }, "QR code"),
    preview,
    h("div", { class: "actions" },
      h("button", { type: "button", onclick: () => download("svg") }, "Download QR (SVG)"),
      h("button", { type: "button", onclick: () => download("png") }, "Download QR (PNG)")),
    message);
}

function statsParts(stats) {
  const series = dailySeries(stats.daily || []);
  const total = stats.click_count ?? 0;
  const inRange = series.reduce((sum, d) => sum + d.clicks, 0);
  const bots = stats.bot_clicks ?? 0;
  return [
    h("p", { class: "total" }, h("strong", {}, String(total)), ` ${total === 1 ? "visit" : "visits"} by people`,
      h("span", { class: "muted" }, ` · ${bots} by bots, counted apart`)),
    h("figure", { class: "card" },
      barChart(series, `Bar chart of visits per day from ${series[0].date} to ${series.at(-1).date}: ${inRange} in all; the table below lists each day.`,
        document.getElementById("main").clientWidth - 64),
      h("figcaption", {}, `Visits per day, ${series[0].date} to ${series.at(-1).date} (UTC)`)),
    h("div", { class: "table-wrap scroll" }, dailyTable(series)),
    h("div", { class: "breakdowns" },
      breakdown("Referrers", "Referrer", stats.referrers, "domain", "Direct visits and apps send no referrer."),
      breakdown("Countries", "Country", stats.countries, "country"),
      breakdown("Devices", "Device", stats.devices, "device")),
    h("section", { class: "card", "aria-labelledby": "bots-title" },
      h("h3", { id: "bots-title" }, "Bots"),
      h("p", {}, `${bots} ${bots === 1 ? "request" : "requests"} came from crawlers, link previewers and other bots. They are not in the numbers above.`)),
  ];
}

function breakdown(title, column, rows, key, empty) {
  const id = `t-${title.toLowerCase()}`;
  return h("section", { class: "card", "aria-labelledby": id },
    h("h3", { id }, title),
    rows?.length
      ? h("table", { class: "compact" },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, column), h("th", { scope: "col", class: "num" }, "Count"))),
          h("tbody", {}, rows.map((r) => h("tr", {}, h("th", { scope: "row" }, r[key] || "(none)"), h("td", { class: "num" }, String(r.clicks))))))
      : h("p", {}, empty || "None yet."));
}
