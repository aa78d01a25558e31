// The caller's notices (GET /api/notifications, newest first), for every role: what the platform told them and when,
// in the page's language, with a way to the page the notice is about (in the year it names). Until the platform has the inbox, a plain note.
import { h, clear, date } from "../dom.js";
import { t, language } from "../i18n.js";
import { api, ApiError } from "../api.js";
import { setYear } from "./year.js";

export const noticesPage = { id: "notices", title: "nav.notices", render: notices };

// The page of this portal that shows what a notice's API path is about: the first of its candidates the reader's role has
// (a unit reads about its allocation on "allocation", a regulator about an approval on "queues").
const PAGES = [
  [/\/allocation\/|\/objections\/|\/adjustments\//, ["allocation"]],
  [/\/ledger\/accounts\/|\/accounts\//, ["allocation"]], // the unit's holdings are on its allocation page
  [/\/compliance|\/surrenders/, ["allocation", "dashboard"]],
  [/\/reports\/\d+\/verification/, ["engagements", "report"]],
  [/\/reports\//, ["report"]],
  [/\/monthly/, ["monthly", "checks"]],
  [/\/checks/, ["checks", "monthly"]],
  [/\/verifiers\//, ["engagements"]],
  [/\/lists\//, ["report", "checks", "dashboard"]],
  [/\/approvals/, ["queues"]],
  [/\/cases/, ["queues", "allocation"]],
];

function pageOf(link, pages) {
  const candidates = PAGES.find(([pattern]) => pattern.test(link))?.[1] ?? [];
  return candidates.find(id => pages.some(p => p.id === id)) ?? null;
}

/** The compliance year a notice's API path names (/allocation/2025/..., /lists/2025, /units/X/reports/2025), if any. */
function yearOf(link) {
  const match = /\/(?:allocation|lists|reports|compliance|surrenders)\/(\d{4})(?:\/|$)/.exec(link);
  return match ? Number(match[1]) : null;
}

async function notices(page, s, pages = []) {
  const box = h("section", { class: "card wide", id: "notices" });
  page.append(box);
  const load = async () => {
    let inbox;
    try {
      inbox = await api("/notifications");
    } catch (error) {
      clear(box, h("p", { class: "hint" }, error instanceof ApiError && error.status === 404 ? t("notices.unavailable") : error.message));
      return;
    }
    const zh = language() === "zh";
    clear(box, h("p", {}, t("notices.unread", { count: inbox.unread })),
      inbox.notifications.length === 0 ? h("p", { class: "hint" }, t("notices.none")) :
        h("ul", { class: "notices" }, inbox.notifications.map(n => {
          const target = n.link ? pageOf(n.link, pages) : null;
          return h("li", { class: n.readAt ? "read" : "unread", dataset: { notice: n.id } },
            h("strong", {}, zh ? n.subjectZh : n.subjectEn), h("span", { class: "hint" }, ` · ${date(n.createdAt)}`),
            h("p", { class: "notice-body" }, zh ? n.bodyZh : n.bodyEn),
            target ? h("a", { href: `#/${target}`, class: "small", dataset: { target }, onclick: () => setYear(yearOf(n.link)) }, t("notices.open")) : "",
            n.readAt ? "" : h("button", { type: "button", class: "small secondary", onclick: async () => {
              await api(`/notifications/${encodeURIComponent(n.id)}/read`, { method: "POST" });
              await load();
            } }, t("notices.markRead")));
        })));
  };
  await load();
}
